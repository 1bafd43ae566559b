// route_embedder.h: the router's embedding signal backed by a BERT-family encoder GGUF (`--embed-model`), and the
// built-in exemplar utterances it compares messages with.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "router/embedding_signal.h"

namespace duet::app {

// Loads the encoder and its WordPiece vocabulary; the Embedder it returns owns them (one call at a time inside).
// Errors: unreadable or invalid file, a decoder instead of an encoder, a vocabulary that does not load.
Result<router::Embedder> load_encoder_embedder(const std::string& path, int n_threads);

// Every 4th message of the built-in training corpus (data/router/train.jsonl): about 200, every category.
std::vector<router::Exemplar> builtin_exemplars();

}  // namespace duet::app
