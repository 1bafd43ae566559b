// commands.h: the duet subcommands. Each takes argv after the subcommand name and returns the exit code.
#pragma once

namespace duet::app {

int cmd_inspect(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_template(int argc, char** argv);
int cmd_generate(int argc, char** argv);
int cmd_logits(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_make_model(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_embed(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_route(int argc, char** argv);
int cmd_pull(int argc, char** argv);
int cmd_models(int argc, char** argv);
int cmd_arena(int argc, char** argv);

}  // namespace duet::app
