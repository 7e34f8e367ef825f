#include "distcf/util/signals.hpp"

#include <csignal>

namespace distcf {

namespace {
// A signal handler may only touch a lock-free atomic: this one holds the signal's number.
volatile std::sig_atomic_t g_received = 0;
void note(int signal) { g_received = signal; }
struct sigaction g_old_usr1, g_old_term;
}  // namespace

StopSignals::StopSignals() {
    g_received = 0;
    struct sigaction sa {};
    sa.sa_handler = note;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;  // blocking calls resume; the loop looks at the flag when it can
    sigaction(SIGUSR1, &sa, &g_old_usr1);
    sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignals::~StopSignals() {
    sigaction(SIGUSR1, &g_old_usr1, nullptr);
    sigaction(SIGTERM, &g_old_term, nullptr);
}

int StopSignals::received() const { return g_received; }

const char* StopSignals::name(int signal) {
    switch (signal) {
        case SIGUSR1: return "SIGUSR1";
        case SIGTERM: return "SIGTERM";
        default: return "a signal";
    }
}

}  // namespace distcf
