#!/usr/bin/env bash
# compare.sh: duet and llama.cpp measured side by side on this machine, on the same generated GGUF files.
#
#   bench/compare.sh --llama-cpp DIR [options]
#
# DIR is the user's own llama.cpp build (llama-bench and llama-server in DIR, DIR/bin or DIR/build/bin); nothing of
# llama.cpp is in this repository. Steps:
#   1. the model files: `duet make-model --preset P --type T --seed 1 --vocab V` (the real vocabulary from the
#      fixtures when present, so llama.cpp and duet tokenize alike), kept in OUT/models and reused;
#   2. engine speed: `llama-bench` and `duet bench` with the same -p/-n/-t/-r, alternated ALT times per model (the
#      order flips every alternation so that drift hits both);
#   3. server speed: llama-server --parallel 4 and duet serve, both up, loaded by the same client
#      (`duet bench --url --endpoint completions`), alternated ALT times;
#      with duet's read-bandwidth probe before each alternation and after the last;
#   4. a Markdown report on stdout (medians over the alternations, ratios duet / llama.cpp, every run's figure, duet's
#      TPOT at the most streams against one stream's, the machine: CPU family/model, vector flags, load average,
#      duet's read-bandwidth probes, runs marked where a probe read low). Raw JSON in OUT/raw.
# Progress goes to stderr.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/compare.sh --llama-cpp DIR [options]
  --llama-cpp DIR      llama.cpp build holding llama-bench and llama-server (DIR, DIR/bin or DIR/build/bin)
  --duet PATH          the duet binary (default: build/duet of this checkout)
  --out DIR            model files and raw JSON (default: compare-out)
  --models LIST        PRESET:TYPE[:P:N],... (default r1:q4_0,r1:q4_k_m,r1:q8_0,llama3:q4_0:64:32); presets as in
                       `duet make-model` (aliases r1 = deepseek-r1-distill-qwen-1.5b, llama3 = llama-3-8b-instruct,
                       qwen0.5 = qwen2.5-0.5b); P:N override -p/-n for that model
  -p N, -n N           prompt / generated tokens for pp / tg (default 512 / 128)
  -t N                 threads for everything (default 2)
  -r N                 repetitions inside each llama-bench / duet bench run (default 3)
  --alternations N     alternations of the two programs (default 3; at least 3 for a median worth the name)
  --serve-model SPEC   the model served in step 3 (default: the first of --models)
  --concurrency LIST   client concurrency levels (default 1,4); --parallel N for llama-server (default 4)
  --requests N, --prompt-tokens N, --max-tokens N   per level (default 12, 90, 64)
  --no-bench, --no-serve   skip step 2 or step 3
  --vocab-dir DIR      vocabularies (default $DUET_FIXTURES/vocab-derived or ../shared/fixtures/vocab-derived)
  --port N             duet serve on N, llama-server on N+1 (default 18480)
EOF
}

repo=$(cd "$(dirname "$0")/.." && pwd)
llama_dir="" duet="$repo/build/duet" out="compare-out"
models="r1:q4_0,r1:q4_k_m,r1:q8_0,llama3:q4_0:64:32"
n_prompt=512 n_gen=128 threads=2 reps=3 alternations=3
serve_model="" concurrency="1,4" parallel=4 requests=12 prompt_tokens=90 max_tokens=64
do_bench=1 do_serve=1 port=18480
vocab_dir="${DUET_FIXTURES:-$repo/../shared/fixtures}/vocab-derived"

die() { echo "compare.sh: $*" >&2; exit 2; }
need_int() { [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] || die "$1 needs a positive integer (got '$2')"; }
while [ $# -gt 0 ]; do
    opt=$1
    case "$opt" in
        -h|--help) usage; exit 0 ;;
        --no-bench) do_bench=0; shift; continue ;;
        --no-serve) do_serve=0; shift; continue ;;
    esac
    [ $# -ge 2 ] || die "$opt needs a value"
    val=$2
    shift 2
    case "$opt" in
        --llama-cpp) llama_dir=$val ;;
        --duet) duet=$val ;;
        --out) out=$val ;;
        --models) models=$val ;;
        -p) need_int "$opt" "$val"; n_prompt=$val ;;
        -n) need_int "$opt" "$val"; n_gen=$val ;;
        -t) need_int "$opt" "$val"; threads=$val ;;
        -r) need_int "$opt" "$val"; reps=$val ;;
        --alternations) need_int "$opt" "$val"; alternations=$val ;;
        --serve-model) serve_model=$val ;;
        --concurrency) [[ "$val" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--concurrency: a list like 1,4"; concurrency=$val ;;
        --parallel) need_int "$opt" "$val"; parallel=$val ;;
        --requests) need_int "$opt" "$val"; requests=$val ;;
        --prompt-tokens) need_int "$opt" "$val"; prompt_tokens=$val ;;
        --max-tokens) need_int "$opt" "$val"; max_tokens=$val ;;
        --vocab-dir) vocab_dir=$val ;;
        --port) need_int "$opt" "$val"; port=$val ;;
        *) usage >&2; die "unknown option '$opt'" ;;
    esac
done
[ -n "$llama_dir" ] || { usage >&2; die "--llama-cpp DIR is required"; }
command -v python3 >/dev/null || die "python3 is needed for the report"

find_tool() {  # find_tool NAME -> path of NAME in the llama.cpp build
    local d
    for d in "$llama_dir" "$llama_dir/bin" "$llama_dir/build/bin"; do
        [ -x "$d/$1" ] && { echo "$d/$1"; return 0; }
    done
    die "no executable $1 in $llama_dir, $llama_dir/bin or $llama_dir/build/bin"
}
llama_bench="" llama_server=""
[ "$do_bench" = 0 ] || llama_bench=$(find_tool llama-bench)
[ "$do_serve" = 0 ] || llama_server=$(find_tool llama-server)
[ -x "$duet" ] || die "no duet binary at $duet (build it: cmake --build build --target duet)"
[ -n "$serve_model" ] || serve_model=${models%%,*}

port_free() {  # port_free N: nothing is bound to 127.0.0.1:N
    python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}
# The servers start after the benchmarks (~13 minutes in): a port held by a server left running fails now, not then.
if [ "$do_serve" = 1 ]; then
    for p in "$port" $((port + 1)); do
        port_free "$p" || die "port $p on 127.0.0.1 is in use (a server left running?): stop it, or pass --port N"
    done
fi

rm -rf "$out/raw"  # this run's files only (the models stay)
mkdir -p "$out/models" "$out/raw"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

preset_of() {
    case "$1" in
        r1) echo deepseek-r1-distill-qwen-1.5b ;;
        llama3) echo llama-3-8b-instruct ;;
        qwen0.5) echo qwen2.5-0.5b ;;
        *) echo "$1" ;;
    esac
}
vocab_of() {  # the vocabulary fixture for a preset, if there is one
    case "$1" in
        deepseek-r1-distill-qwen-1.5b) echo "$vocab_dir/vocab-deepseek-r1-distill-qwen.derived.gguf" ;;
        llama-3-8b-instruct) echo "$vocab_dir/vocab-llama3-instruct.derived.gguf" ;;
        qwen2.5-0.5b) echo "$vocab_dir/vocab-qwen2.5-instruct.derived.gguf" ;;
        *) echo "" ;;
    esac
}

# model_file SPEC -> path of the generated GGUF (made once; the name says preset, type and vocabulary).
model_file() {
    local spec=$1 preset type vocab vocab_tag file
    IFS=: read -r preset type _ <<<"$spec"
    preset=$(preset_of "$preset")
    [ -n "$type" ] || die "model '$spec': PRESET:TYPE expected"
    vocab=$(vocab_of "$preset")
    vocab_tag=realvocab
    if [ -z "$vocab" ] || [ ! -f "$vocab" ]; then
        log "warning: no vocabulary fixture for $preset (looked for '${vocab:-none}'): duet's generated byte-level vocabulary"
        vocab="" vocab_tag=bytevocab
    fi
    file="$out/models/$preset-$type-$vocab_tag.gguf"
    if [ ! -s "$file" ]; then
        log "generating $file"
        "$duet" make-model --preset "$preset" --type "$type" --seed 1 ${vocab:+--vocab "$vocab"} -o "$file.tmp" \
            -t "$threads" >&2 || die "duet make-model failed for $spec"
        mv "$file.tmp" "$file"
    fi
    echo "$file"
}

# Run a command into a JSON file; a failure is logged (what it printed stays: `duet bench --url` exits 1 when every
# request failed but still reports; the report skips files that are not JSON).
run_json() {
    local dest=$1
    shift
    local rc=0
    "$@" >"$dest" 2>"$dest.log" || rc=$?
    [ "$rc" = 0 ] || log "failed (exit $rc): $* (see $dest.log)"
}

date -u '+%Y-%m-%d %H:%M UTC' >"$out/raw/started"
cut -d' ' -f1-3 /proc/loadavg >"$out/raw/load_start"
{
    "$duet" --version 2>/dev/null | head -1 || true
    git -C "$repo" log -1 --format='commit %h (%cs)' 2>/dev/null || true
} | paste -sd' ' >"$out/raw/duet_version"
IFS=, read -r -a specs <<<"$models"

if [ "$do_bench" = 1 ]; then
    for spec in "${specs[@]}"; do
        file=$(model_file "$spec")
        IFS=: read -r _ _ p n <<<"$spec"
        p=${p:-$n_prompt} n=${n:-$n_gen}
        tag=$(basename "$file" .gguf)
        echo "$spec $file $p $n" >"$out/raw/bench.$tag.spec"
        for ((a = 1; a <= alternations; a++)); do
            order="llama duet"
            [ $((a % 2)) = 0 ] && order="duet llama"
            for who in $order; do
                log "$tag: alternation $a/$alternations: $who (pp$p, tg$n, -t $threads, -r $reps)"
                if [ "$who" = llama ]; then
                    run_json "$out/raw/bench.$tag.llama.$a.json" "$llama_bench" -m "$file" -p "$p" -n "$n" \
                        -t "$threads" -r "$reps" -o json
                else
                    run_json "$out/raw/bench.$tag.duet.$a.json" "$duet" bench -m "$file" -p "$p" -n "$n" \
                        -t "$threads" -r "$reps" --json
                fi
            done
        done
    done
fi

server_pids=()
stop_servers() {
    local pid
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${server_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    server_pids=()
}
trap stop_servers EXIT

wait_healthy() {  # wait_healthy URL PID LOG: until /health answers 200 (5 minutes at most)
    python3 - "$1" "$2" <<'PY' || { tail -n 5 "$3" >&2; die "server at $1 did not become healthy (its log: $3)"; }
import os, sys, time, urllib.request
url, pid = sys.argv[1], int(sys.argv[2])
for _ in range(600):
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        if urllib.request.urlopen(url + "/health", timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
sys.exit(1)
PY
}

if [ "$do_serve" = 1 ]; then
    file=$(model_file "$serve_model")
    duet_url="http://127.0.0.1:$port" llama_url="http://127.0.0.1:$((port + 1))"
    echo "$serve_model $file" >"$out/raw/serve.spec"
    slot_ctx=$((prompt_tokens * 2 + max_tokens + 256))
    log "starting duet serve ($duet_url) and llama-server --parallel $parallel ($llama_url) on $file"
    "$duet" serve -m "model=$file" -t "$threads" --port "$port" --ctx "$slot_ctx" \
        --data-dir "$out/duet-data" >"$out/raw/duet-serve.log" 2>&1 &
    server_pids+=($!)
    wait_healthy "$duet_url" "$!" "$out/raw/duet-serve.log"
    "$llama_server" -m "$file" -t "$threads" --host 127.0.0.1 --port $((port + 1)) --parallel "$parallel" \
        -c $((slot_ctx * parallel)) --no-webui >"$out/raw/llama-server.log" 2>&1 &
    server_pids+=($!)
    wait_healthy "$llama_url" "$!" "$out/raw/llama-server.log"
    client() {  # client URL DEST [extra duet bench --url options]
        local url=$1 dest=$2
        shift 2
        run_json "$dest" "$duet" bench --url "$url" --model model --endpoint completions --concurrency "$concurrency" \
            --requests "$requests" --prompt-tokens "$prompt_tokens" --max-tokens "$max_tokens" --json "$@"
    }
    for who in duet llama; do  # one short warm-up request each (first-touch of the weights), not reported
        url=$duet_url
        [ "$who" = llama ] && url=$llama_url
        run_json "$out/raw/warmup.$who.json" "$duet" bench --url "$url" --model model --endpoint completions \
            --concurrency 1 --requests 1 --prompt-tokens "$prompt_tokens" --max-tokens 8 --json
    done
    # The served runs have no probe of their own: duet bench's (a 1-token pp and tg on the served file) reads the
    # memory bandwidth before each alternation and after the last, so the report can mark a served run that a
    # neighbour slowed (bandwidth-bound 1-stream decode and mostly compute-bound 4-stream steps lose differently).
    serve_probe() { run_json "$out/raw/serve_probe.$1.json" "$duet" bench -m "$file" -p 1 -n 1 -t "$threads" -r 1 --json; }
    for ((a = 1; a <= alternations; a++)); do
        serve_probe "$a"
        order="llama duet"
        [ $((a % 2)) = 0 ] && order="duet llama"
        for who in $order; do
            url=$duet_url
            [ "$who" = llama ] && url=$llama_url
            log "serve: alternation $a/$alternations: $who (concurrency $concurrency, $requests requests each)"
            client "$url" "$out/raw/serve.$who.$a.json"
        done
    done
    serve_probe $((alternations + 1))
    stop_servers
fi
cut -d' ' -f1-3 /proc/loadavg >"$out/raw/load_end"

python3 "$repo/bench/compare_report.py" "$out/raw" --llama-cpp "$llama_dir" --threads "$threads" --reps "$reps" \
    --alternations "$alternations" --parallel "$parallel"
