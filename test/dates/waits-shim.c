/*
 * Loaded in front of libfaketime under `npm run test:dates`. libfaketime wraps the blocking waits
 * (epoll_wait, poll, select, nanosleep, ...) and stops faking the clock while it sits in them, so
 * a signal handler that runs during the wait reads the real clock. PostgreSQL checks its
 * statement_timeout, lock_timeout and deadlock_timeout from its SIGALRM handler, mostly while
 * waiting on its latch: with the faked clock ahead of the real one every such timeout re-armed
 * itself for the distance between the two clocks and never fired. These waits go straight to the
 * kernel instead; nothing here scales time, so libfaketime's wrappers had nothing else to do.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define KERNEL_SIGSET_BYTES (_NSIG / 8)

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) {
  return (int)syscall(SYS_epoll_wait, epfd, events, maxevents, timeout);
}

int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout, const sigset_t *mask) {
  return (int)syscall(SYS_epoll_pwait, epfd, events, maxevents, timeout, mask, KERNEL_SIGSET_BYTES);
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout) {
  return (int)syscall(SYS_poll, fds, nfds, timeout);
}

int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *timeout, const sigset_t *mask) {
  return (int)syscall(SYS_ppoll, fds, nfds, timeout, mask, KERNEL_SIGSET_BYTES);
}

int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds, struct timeval *timeout) {
  return (int)syscall(SYS_select, nfds, readfds, writefds, exceptfds, timeout);
}

int nanosleep(const struct timespec *request, struct timespec *remaining) {
  return (int)syscall(SYS_nanosleep, request, remaining);
}

int usleep(useconds_t usec) {
  struct timespec request = {usec / 1000000, (long)(usec % 1000000) * 1000};
  return nanosleep(&request, NULL);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *request, struct timespec *remaining) {
  /* An absolute CLOCK_REALTIME deadline is in faked time: only libfaketime can translate it. */
  if (clock == CLOCK_REALTIME && (flags & TIMER_ABSTIME)) {
    int (*faked)(clockid_t, int, const struct timespec *, struct timespec *) =
        (int (*)(clockid_t, int, const struct timespec *, struct timespec *))dlsym(RTLD_NEXT, "clock_nanosleep");
    return faked(clock, flags, request, remaining);
  }
  /* Unlike the others it returns the error number instead of setting errno. */
  return syscall(SYS_clock_nanosleep, clock, flags, request, remaining) == 0 ? 0 : errno;
}
