// proxy.cpp: forward(): tries with backoff over a pool; Exchange: one HTTP call on its own thread, read piecewise.
#include "upstream/proxy.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "common/log.h"
#include "common/strformat.h"
#include "common/timer.h"
#include "openai/errors.h"

namespace duet::upstream {

namespace {

using nlohmann::json;

constexpr double kPollSeconds = 0.25;  // how often a waiting request asks whether its client is still there
constexpr size_t kMaxErrorBodyBytes = 8 * 1024;

std::pair<time_t, time_t> split_seconds(double seconds) {
    const double s = std::max(0.001, seconds);
    return {static_cast<time_t>(s), static_cast<time_t>(std::fmod(s, 1.0) * 1e6)};
}

// One HTTP exchange with a replica, run by httplib on its own thread; the caller waits for the head, then takes
// the body's pieces as they arrive. The thread is joined by the destructor (cancel() closes the socket first).
class Exchange {
    template <typename F>
    auto locked(F f) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return f();
    }

public:
    Exchange(const Pool::Replica& replica, const PoolOptions& options, const std::string& endpoint, std::string body)
        : client_(replica.origin), read_timeout_(options.first_byte_timeout_seconds) {
        auto [cs, cu] = split_seconds(options.connect_timeout_seconds);
        auto [rs, ru] = split_seconds(options.first_byte_timeout_seconds);
        client_.set_connection_timeout(cs, cu);
        client_.set_read_timeout(rs, ru);
        client_.set_write_timeout(30, 0);
        client_.set_tcp_nodelay(true);  // the request's head and body are two writes: no Nagle wait between them
        request_.method = "POST";
        request_.path = replica.prefix + endpoint;
        request_.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream, application/json"}};
        if (!options.api_key.empty()) request_.headers.emplace("Authorization", "Bearer " + options.api_key);
        request_.body = std::move(body);
        request_.response_handler = [this](const httplib::Response& res) {
            std::lock_guard<std::mutex> lock(mutex_);
            head_ = true;
            status_ = res.status;
            content_type_ = res.get_header_value("Content-Type");
            changed_.notify_all();
            return !cancelled_;
        };
        request_.content_receiver = [this](const char* data, size_t n, uint64_t, uint64_t) {
            std::lock_guard<std::mutex> lock(mutex_);
            last_read_ = now_seconds();
            if (first_byte_ < 0) first_byte_ = last_read_ - sent_;
            pieces_.emplace_back(data, n);
            changed_.notify_all();
            return !cancelled_;
        };
        sent_ = last_read_ = now_seconds();
        thread_ = std::thread([this] {
            httplib::Response response;
            httplib::Error error = httplib::Error::Success;
            client_.send(request_, response, error);
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
            error_ = error;
            changed_.notify_all();
        });
    }
    ~Exchange() {
        cancel();
        thread_.join();
    }

    // Waits up to `seconds` for the head (or the end); true when either came.
    bool wait_head(double seconds) {
        std::unique_lock<std::mutex> lock(mutex_);
        return changed_.wait_for(lock, std::chrono::duration<double>(seconds), [this] { return head_ || done_; });
    }
    // Waits for body bytes or the end; appends what came to *out. False once the exchange is over and drained.
    bool wait_body(std::string* out) {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return !pieces_.empty() || done_; });
        if (pieces_.empty()) return false;
        while (!pieces_.empty()) {
            out->append(pieces_.front());
            pieces_.pop_front();
        }
        return true;
    }
    void cancel() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (done_) return;
            cancelled_ = true;
        }
        client_.stop();
    }

    bool has_head() const {
        return locked([this] { return head_; });
    }
    int status() const {
        return locked([this] { return status_; });
    }
    std::string content_type() const {
        return locked([this] { return content_type_; });
    }
    double first_byte_seconds() const {
        return locked([this] { return first_byte_; });
    }
    // How a finished exchange failed in transport (after drain): ok (no failure), connect_error, timeout,
    // stream_cut (anything else: reset, read error).
    Outcome transport_outcome() const {
        return locked([this] {
            if (!done_ || error_ == httplib::Error::Success) return Outcome::ok;
            if (cancelled_ || error_ == httplib::Error::Canceled) return Outcome::cancelled;
            if (error_ == httplib::Error::Connection || error_ == httplib::Error::ConnectionTimeout)
                return head_ ? Outcome::stream_cut : Outcome::connect_error;
            if (error_ == httplib::Error::Read && now_seconds() - last_read_ >= 0.9 * read_timeout_)
                return Outcome::timeout;
            return Outcome::stream_cut;
        });
    }
    std::string transport_message() const {
        return locked([this] {
            switch (error_) {
                case httplib::Error::Connection:
                    return std::string("could not connect");
                case httplib::Error::ConnectionTimeout:
                    return std::string("connect timed out");
                case httplib::Error::Read:
                    return std::string("read failed");
                default:
                    return "httplib error " + httplib::to_string(error_);
            }
        });
    }

private:
    httplib::Client client_;
    httplib::Request request_;
    const double read_timeout_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    bool head_ = false, done_ = false, cancelled_ = false;
    int status_ = 0;
    std::string content_type_;
    std::deque<std::string> pieces_;
    httplib::Error error_ = httplib::Error::Success;
    double sent_ = 0, last_read_ = 0, first_byte_ = -1;
    std::thread thread_;
};

openai::ApiError upstream_error(int status, const char* type, const char* code, std::string message) {
    openai::ApiError e;
    e.status = status;
    e.type = type;
    e.code = code;
    e.message = std::move(message);
    if (status == 503) e.retry_after_seconds = 1;
    return e;
}

// A non-200 answer from the upstream, in our error shape with its status: {"error": {...}} (OpenAI, duet) or a
// flat {"message", "type", "code"} (older vLLM); anything else: its first bytes as the message.
openai::ApiError mapped_http_error(const Pool& pool, int status, const std::string& body) {
    openai::ApiError e;
    e.status = status;
    e.type = status >= 500 ? "upstream_error" : "invalid_request_error";
    const json parsed = json::parse(body, nullptr, false);
    const json* fields = nullptr;
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) fields = &parsed["error"];
    else if (parsed.is_object() && parsed.contains("message")) fields = &parsed;
    auto text = [](const json& j, const char* key) -> std::optional<std::string> {
        if (!j.contains(key) || j[key].is_null()) return std::nullopt;
        return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
    };
    std::string message = fields ? text(*fields, "message").value_or("") : body.substr(0, 200);
    if (fields) {
        e.type = text(*fields, "type").value_or(e.type);
        e.param = text(*fields, "param");
        e.code = text(*fields, "code");
    }
    e.message = strformat("upstream '%s' answered HTTP %d: %s", pool.name().c_str(), status, message.c_str());
    if (status == 503 || status == 429) e.retry_after_seconds = 1;
    return e;
}

ProxyResponse error_answer(const openai::ApiError& e, int attempts) {
    ProxyResponse r;
    r.status = e.status;
    r.body = openai::error_json(e);
    r.retry_after_seconds = e.retry_after_seconds;
    r.attempts = attempts;
    return r;
}

ProxyResponse client_gone(int attempts) {
    ProxyResponse r;
    r.status = 499;
    r.attempts = attempts;
    return r;
}

// "...\n\n" or "...\r\n\r\n": the end of the last whole event in `buffer` (0: none yet).
size_t whole_events_end(const std::string& buffer) {
    const size_t lf = buffer.rfind("\n\n"), crlf = buffer.rfind("\r\n\r\n");
    size_t end = 0;
    if (lf != std::string::npos) end = lf + 2;
    if (crlf != std::string::npos) end = std::max(end, crlf + 4);
    return end;
}

}  // namespace

// ---- ProxyStream -----------------------------------------------------------------------------------------------

struct ProxyStream::Impl {
    std::shared_ptr<Pool> pool;
    size_t replica = 0;
    std::unique_ptr<Exchange> exchange;
    std::string pending;  // bytes after the last whole event
    bool saw_done = false, ended = false, reported = false;

    void report(Outcome outcome) {
        if (reported) return;
        reported = true;
        pool->finish(replica, outcome, exchange->first_byte_seconds());
    }
};

ProxyStream::ProxyStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ProxyStream::~ProxyStream() {
    if (!impl_->reported) {
        impl_->exchange->cancel();
        impl_->report(impl_->saw_done ? Outcome::ok : Outcome::cancelled);
    }
}

bool ProxyStream::next(std::string* out) {
    Impl& s = *impl_;
    out->clear();
    if (s.ended) return false;
    while (s.exchange->wait_body(&s.pending)) {
        const size_t end = whole_events_end(s.pending);
        if (end == 0) continue;
        out->assign(s.pending, 0, end);
        s.pending.erase(0, end);
        const std::string_view tail = std::string_view(*out).substr(out->size() > 24 ? out->size() - 24 : 0);
        if (tail.find("[DONE]") != std::string_view::npos) s.saw_done = true;
        return true;
    }
    s.ended = true;
    Outcome outcome = s.exchange->transport_outcome();
    if (outcome == Outcome::cancelled) {
        s.report(outcome);
        return false;
    }
    if (s.saw_done) {
        s.report(Outcome::ok);
        return false;
    }
    // Cut short: the partial event is dropped; the client learns why, in the API's shape.
    if (outcome == Outcome::ok) outcome = Outcome::stream_cut;  // closed cleanly but without [DONE]
    s.report(outcome);
    const char* why = outcome == Outcome::timeout ? "timed out" : "was cut";
    DUET_LOG_WARN("upstream %s: stream from %s %s (%s)", s.pool->name().c_str(), s.pool->replica(s.replica).url.c_str(),
                  why, s.exchange->transport_message().c_str());
    const openai::ApiError e =
        upstream_error(502, "upstream_error", outcome == Outcome::timeout ? "upstream_timeout" : "upstream_stream_cut",
                       strformat("upstream '%s': the stream %s before it finished", s.pool->name().c_str(), why));
    *out = "data: " + openai::error_json(e) + "\n\ndata: [DONE]\n\n";
    return true;
}

void ProxyStream::cancel() { impl_->exchange->cancel(); }

// ---- forward ---------------------------------------------------------------------------------------------------

uint64_t affinity_key(const json& body, int messages) {
    if (!body.is_object()) return 0;
    std::string bytes;
    if (body.contains("messages") && body["messages"].is_array()) {
        const json& list = body["messages"];
        for (size_t i = 0; i < list.size() && i < static_cast<size_t>(std::max(messages, 1)); ++i) {
            const json& m = list[i];
            if (!m.is_object()) continue;
            if (m.contains("role")) bytes += m["role"].is_string() ? m["role"].get<std::string>() : m["role"].dump();
            bytes += '\x1f';
            if (m.contains("content"))
                bytes += m["content"].is_string() ? m["content"].get<std::string>() : m["content"].dump();
            bytes += '\x1e';
        }
    } else if (body.contains("prompt")) {
        const json& p = body["prompt"];
        bytes = (p.is_string() ? p.get<std::string>() : p.dump()).substr(0, 1024);
    }
    if (bytes.empty()) return 0;
    return hash_bytes(bytes) | 1;  // never 0 ("no key")
}

ProxyResponse forward(const std::shared_ptr<Pool>& pool, ProxyRequest request) {
    const PoolOptions& options = pool->options();
    const uint64_t key = affinity_key(request.body, options.affinity_messages);
    const bool streaming = request.body.value("stream", false) == true;
    auto alive = [&] { return !request.client_alive || request.client_alive(); };
    thread_local std::minstd_rand jitter(static_cast<unsigned>(now_micros()));

    std::vector<size_t> tried;
    std::optional<openai::ApiError> last_error;
    int attempts = 0;
    for (int attempt = 0; attempt < options.max_attempts; ++attempt) {
        if (attempt > 0) {
            const double base =
                std::min(options.backoff_max_seconds, options.backoff_seconds * std::pow(2, attempt - 1));
            const double wait = base * (0.8 + 0.4 * std::uniform_real_distribution<double>(0, 1)(jitter));
            std::this_thread::sleep_for(std::chrono::duration<double>(wait));
            if (!alive()) return client_gone(attempts);
        }
        if (tried.size() >= pool->size()) tried.clear();  // every replica tried once: any may be tried again
        std::optional<size_t> picked = pool->pick(key, tried);
        if (!picked && !tried.empty()) picked = pool->pick(key, {});
        if (!picked) {
            if (last_error) break;
            return error_answer(upstream_error(503, "unavailable_error", "upstream_unavailable",
                                               strformat("upstream '%s': no replica is available (circuit breakers "
                                                         "open after repeated failures); try again shortly",
                                                         pool->name().c_str())),
                                attempts);
        }
        const size_t index = *picked;
        tried.push_back(index);
        if (attempt > 0) pool->count_retry();
        ++attempts;
        const Pool::Replica& replica = pool->replica(index);
        request.body["model"] = replica.model;
        auto exchange = std::make_unique<Exchange>(replica, options, request.endpoint, request.body.dump());
        while (!exchange->wait_head(kPollSeconds)) {
            if (!alive()) {
                exchange->cancel();
                pool->finish(index, Outcome::cancelled);
                return client_gone(attempts);
            }
        }
        if (!exchange->has_head()) {  // failed before any answer
            const Outcome outcome = exchange->transport_outcome();
            pool->finish(index, outcome);
            const std::string why = exchange->transport_message();
            if (outcome == Outcome::connect_error) {
                DUET_LOG_WARN("upstream %s: %s: %s (try %d of %d)", pool->name().c_str(), replica.url.c_str(),
                              why.c_str(), attempt + 1, options.max_attempts);
                last_error = upstream_error(502, "upstream_error", "upstream_unreachable",
                                            strformat("upstream '%s': %s: %s", pool->name().c_str(),
                                                      replica.url.c_str(), why.c_str()));
                continue;
            }
            if (outcome == Outcome::timeout)
                return error_answer(upstream_error(504, "upstream_error", "upstream_timeout",
                                                   strformat("upstream '%s': %s sent nothing for %g s",
                                                             pool->name().c_str(), replica.url.c_str(),
                                                             options.first_byte_timeout_seconds)),
                                    attempts);
            return error_answer(upstream_error(502, "upstream_error", "upstream_unreachable",
                                               strformat("upstream '%s': %s: %s", pool->name().c_str(),
                                                         replica.url.c_str(), why.c_str())),
                                attempts);
        }
        const int status = exchange->status();
        if (status == 200 && streaming && exchange->content_type().rfind("text/event-stream", 0) == 0) {
            auto impl = std::make_unique<ProxyStream::Impl>();
            impl->pool = pool;
            impl->replica = index;
            impl->exchange = std::move(exchange);
            ProxyResponse r;
            r.content_type = "text/event-stream";
            r.stream = std::make_unique<ProxyStream>(std::move(impl));
            r.attempts = attempts;
            return r;
        }
        std::string body;
        while (exchange->wait_body(&body)) {
            if (status != 200 && body.size() > kMaxErrorBodyBytes) {
                exchange->cancel();
                body.resize(kMaxErrorBodyBytes);
            }
        }
        const Outcome transport = exchange->transport_outcome();
        if (status == 200) {
            if (transport != Outcome::ok) {
                pool->finish(index, transport, exchange->first_byte_seconds());
                return error_answer(upstream_error(502, "upstream_error", "upstream_stream_cut",
                                                   strformat("upstream '%s': the response from %s was cut (%s)",
                                                             pool->name().c_str(), replica.url.c_str(),
                                                             exchange->transport_message().c_str())),
                                    attempts);
            }
            pool->finish(index, Outcome::ok, exchange->first_byte_seconds());
            ProxyResponse r;
            r.content_type = exchange->content_type().empty() ? "application/json" : exchange->content_type();
            r.body = std::move(body);
            r.attempts = attempts;
            return r;
        }
        pool->finish(index, status >= 500 ? Outcome::server_error : Outcome::client_error,
                     exchange->first_byte_seconds());
        openai::ApiError mapped = mapped_http_error(*pool, status, body);
        if (status == 502 || status == 503) {
            DUET_LOG_WARN("upstream %s: %s answered HTTP %d (try %d of %d)", pool->name().c_str(), replica.url.c_str(),
                          status, attempt + 1, options.max_attempts);
            last_error = std::move(mapped);
            continue;
        }
        return error_answer(mapped, attempts);
    }
    return error_answer(*last_error, attempts);
}

}  // namespace duet::upstream
