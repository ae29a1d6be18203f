// What one wake of a sleeping thread costs it, in CPU, three ways (the
// thread on core 0, nothing else of the bench's running):
//   armed first:  a timer armed each wake for the next, no other pending,
//                 so each arming reprograms the core's timer device;
//   armed behind: two timers, the next wake's armed while this one's is
//                 pending (as `replay run` does, src/run/timer.rs), so the
//                 arming reprograms nothing;
//   by core 1:    woken by another thread's write to an eventfd, no timer.
// In a virtual machine reprogramming the timer device traps to the
// hypervisor; on bare metal the first two read alike.
// Usage: wakes WAKES GAP_US (bench/wakes.sh builds and runs it).
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static long gap_ns;
static int wake_fd;
static atomic_int done;

static void pin(int core) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(core, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static double thread_cpu_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void arm_at(int fd, long long at) {
    struct itimerspec spec = {{0, 0}, {at / 1000000000LL, at % 1000000000LL}};
    timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, 0);
}

static int watch(int epoll, int fd) {
    struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

static void wait_and_take(int epoll) {
    struct epoll_event event;
    unsigned long long count;
    while (epoll_wait(epoll, &event, 1, -1) < 1) {}
    if (read(event.data.fd, &count, 8) < 0) {}
}

static double armed_first(int wakes) {
    int epoll = epoll_create1(0), timer = timerfd_create(CLOCK_MONOTONIC, 0);
    watch(epoll, timer);
    double before = thread_cpu_us();
    long long base = now_ns();
    for (int i = 1; i <= wakes; i++) {
        arm_at(timer, base + i * gap_ns);
        wait_and_take(epoll);
    }
    double per_wake = (thread_cpu_us() - before) / wakes;
    close(timer), close(epoll);
    return per_wake;
}

static double armed_behind(int wakes) {
    int epoll = epoll_create1(0), timers[2] = {timerfd_create(CLOCK_MONOTONIC, 0), timerfd_create(CLOCK_MONOTONIC, 0)};
    watch(epoll, timers[0]), watch(epoll, timers[1]);
    long long base = now_ns();
    arm_at(timers[1], base + gap_ns);
    double before = thread_cpu_us();
    for (int i = 1; i <= wakes; i++) {
        arm_at(timers[(i + 1) % 2], base + (i + 1) * gap_ns);  // the next, behind this one
        wait_and_take(epoll);
    }
    double per_wake = (thread_cpu_us() - before) / wakes;
    close(timers[0]), close(timers[1]), close(epoll);
    return per_wake;
}

static void *waker(void *unused) {
    (void)unused;
    pin(1);
    unsigned long long one = 1;
    while (!atomic_load(&done)) {
        struct timespec gap = {0, gap_ns};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &gap, 0);
        if (write(wake_fd, &one, 8) < 0) {}
    }
    return 0;
}

static double by_core_1(int wakes) {
    int epoll = epoll_create1(0);
    wake_fd = eventfd(0, 0);
    watch(epoll, wake_fd);
    pthread_t thread;
    pthread_create(&thread, 0, waker, 0);
    double before = thread_cpu_us();
    for (int i = 0; i < wakes; i++) wait_and_take(epoll);
    double per_wake = (thread_cpu_us() - before) / wakes;
    atomic_store(&done, 1);
    pthread_join(thread, 0);
    close(wake_fd), close(epoll);
    return per_wake;
}

int main(int argc, char **argv) {
    int wakes = argc > 1 ? atoi(argv[1]) : 4000;
    gap_ns = (argc > 2 ? atol(argv[2]) : 300) * 1000;
    pin(0);
    double first = armed_first(wakes), behind = armed_behind(wakes), woken = by_core_1(wakes);
    printf("CPU a wake, %d wakes %ld us apart (core 0):\n", wakes, gap_ns / 1000);
    printf("  timer armed first (reprograms the device)  %6.2f us\n", first);
    printf("  timer armed behind an earlier one           %6.2f us  (%.2fx)\n", behind, behind / first);
    printf("  woken from core 1 (eventfd, no timer)       %6.2f us  (%.2fx)\n", woken, woken / first);
    return 0;
}
