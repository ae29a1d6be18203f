// openloop: the least an open-model load generator can do, as a yardstick for replay's ceiling.
//
// wrk's maximum is a closed loop's: it sends the next request when a response comes, so a
// stalled core costs it throughput and nothing else. An open-model generator is judged by
// lateness too (the run bench's rule: lag p99 <= 1 ms), so a stall of the core it runs on
// costs it the requests that came due meanwhile, whatever its code. This program is that
// generator with nothing but the sockets: Poisson arrivals from one clock (as replay's
// default), `CONNECTIONS` keep-alive HTTP/1.1 connections opened before the clock starts, a
// due request sent on an idle connection as soon as the loop sees it (no batching), the loop
// spinning on epoll_wait(0) between requests (or, with `sleep`, sleeping until the next is
// due), and each request's lag (sent minus due) kept in a 1 µs histogram. Its highest rate
// under the bench's rule is what the machine allows an open model at all; replay's ceiling
// is read against it beside wrk's maximum.
//
// usage: openloop RATE SECONDS CONNECTIONS [spin|sleep] [PORT]   (GET / on 127.0.0.1, port 18080)
// prints one JSON line: intended, sent, responses, errors, seconds, lag and latency percentiles (ms).
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HIST_US 1000000 // lag and latency kept to the µs up to a second; beyond, in the last bucket
#define BUF 4096

static const char REQUEST_FMT[] = "GET / HTTP/1.1\r\nhost: 127.0.0.1:%d\r\n\r\n";

struct conn {
    int fd;
    int busy;
    uint64_t due_ns; // the in-flight request's intended send time
    size_t have;     // response bytes buffered
    char buf[BUF];
};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void record(uint32_t *hist, uint64_t ns) {
    uint64_t us = ns / 1000;
    hist[us < HIST_US ? us : HIST_US - 1]++;
}

static double percentile_ms(const uint32_t *hist, uint64_t n, double p) {
    uint64_t want = (uint64_t)ceil(p * (double)n), seen = 0;
    for (uint64_t us = 0; us < HIST_US; us++) {
        seen += hist[us];
        if (seen >= want && want > 0)
            return (double)us / 1000.0;
    }
    return 0.0;
}

static double max_ms(const uint32_t *hist) {
    for (uint64_t us = HIST_US; us > 0; us--)
        if (hist[us - 1])
            return (double)(us - 1) / 1000.0;
    return 0.0;
}

// A whole response in c->buf: its length (head plus Content-Length), or 0 while incomplete.
static size_t response_length(struct conn *c) {
    char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - c->buf) + 4, body = 0;
    for (char *line = memchr(c->buf, '\n', head); line && line < end; line = memchr(line + 1, '\n', (size_t)(end - line))) {
        if (strncasecmp(line + 1, "content-length:", 15) == 0)
            body = strtoul(line + 16, NULL, 10);
    }
    return c->have >= head + body ? head + body : 0;
}

// xorshift64*: the arrivals' random source, seeded so every run has the same schedule.
static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static double uniform01(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717u) >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: openloop RATE SECONDS CONNECTIONS [spin|sleep] [PORT]\n");
        return 2;
    }
    double rate = atof(argv[1]), seconds = atof(argv[2]);
    int nconn = atoi(argv[3]), spin = argc < 5 || strcmp(argv[4], "sleep") != 0;
    int port = argc > 5 ? atoi(argv[5]) : 18080;
    if (rate <= 0 || seconds <= 0 || nconn <= 0) {
        fprintf(stderr, "openloop: RATE, SECONDS and CONNECTIONS must be positive\n");
        return 2;
    }
    char request[128];
    int request_len = snprintf(request, sizeof request, REQUEST_FMT, port);

    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    int *idle = malloc(sizeof(int) * (size_t)nconn), nidle = 0;
    uint32_t *lag = calloc(HIST_US, sizeof *lag), *latency = calloc(HIST_US, sizeof *latency);
    int ep = epoll_create1(0);
    if (!conns || !idle || !lag || !latency || ep < 0) {
        perror("openloop: setup");
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
    for (int i = 0; i < nconn; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("openloop: connect");
            return 2;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int flags = 1;
        if (ioctl(fd, FIONBIO, &flags) != 0) {
            perror("openloop: FIONBIO");
            return 2;
        }
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
        idle[nidle++] = i;
    }

    uint64_t intended = 0, sent = 0, responses = 0, errors = 0;
    uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
    double mean_gap_ns = 1e9 / rate;
    uint64_t due = start + (uint64_t)(-log(1.0 - uniform01()) * mean_gap_ns);
    uint64_t last_sent = start, grace = end + 2000000000u; // responses still out at the end get 2 s
    struct epoll_event events[256];
    for (;;) {
        uint64_t now = now_ns();
        while (due < end && due <= now && nidle > 0) {
            struct conn *c = &conns[idle[--nidle]];
            intended++;
            if (send(c->fd, request, (size_t)request_len, MSG_NOSIGNAL) == request_len) {
                c->busy = 1;
                c->due_ns = due;
                record(lag, now - due);
                sent++;
                last_sent = now;
            } else {
                errors++; // and the connection is not used again
            }
            due += (uint64_t)(-log(1.0 - uniform01()) * mean_gap_ns);
            now = now_ns();
        }
        if ((due >= end && nidle == nconn) || now > grace)
            break;
        int timeout_ms = 0;
        if (!spin && due > now && due < end)
            timeout_ms = (int)((due - now) / 1000000); // whole ms: finer waits are spun
        int n = epoll_wait(ep, events, 256, timeout_ms);
        for (int e = 0; e < n; e++) {
            struct conn *c = &conns[events[e].data.u32];
            // One read a readiness: the socket is level-triggered, so bytes left in it are
            // reported again, and a second read to see it empty would be a system call for nothing.
            {
                ssize_t got = recv(c->fd, c->buf + c->have, BUF - c->have, 0);
                if (got <= 0) {
                    if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                        fprintf(stderr, "openloop: connection %u closed\n", events[e].data.u32);
                        return 3;
                    }
                    continue;
                }
                c->have += (size_t)got;
                size_t whole;
                while (c->busy && (whole = response_length(c)) > 0) {
                    memmove(c->buf, c->buf + whole, c->have - whole);
                    c->have -= whole;
                    c->busy = 0;
                    responses++;
                    record(latency, now_ns() - c->due_ns);
                    idle[nidle++] = (int)(c - conns);
                }
                if (c->have == BUF) {
                    fprintf(stderr, "openloop: a response over %d bytes\n", BUF);
                    return 3;
                }
            }
        }
    }
    double took = (double)(last_sent - start) / 1e9;
    printf("{\"intended\": %lu, \"sent\": %lu, \"responses\": %lu, \"errors\": %lu, \"seconds\": %.3f, "
           "\"lag_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f}, "
           "\"latency_ms\": {\"p50\": %.3f, \"p99\": %.3f}}\n",
           intended, sent, responses, errors, took < seconds ? seconds : took, percentile_ms(lag, sent, 0.5),
           percentile_ms(lag, sent, 0.9), percentile_ms(lag, sent, 0.99), max_ms(lag), percentile_ms(latency, responses, 0.5),
           percentile_ms(latency, responses, 0.99));
    return 0;
}
