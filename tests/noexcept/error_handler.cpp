// Built with -fno-exceptions: a bad argument calls the installed handler, then aborts.
// The check runs in a child process; the parent verifies the handler ran and the child aborted.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

#include "lightq/tensor/tensor_view.hpp"

#if !defined(LIGHTQ_NO_EXCEPTIONS)
#error "this test must be compiled without exceptions"
#endif

static int pipe_fd = -1;
static void handler(const char* message) {
  const ssize_t n = write(pipe_fd, message, std::strlen(message));
  (void)n;
}

int main() {
  int fds[2];
  if (pipe(fds) != 0) return 2;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    pipe_fd = fds[1];
    lightq::set_error_handler(handler);
    float data[6] = {};
    auto v = lightq::make_view(data, lightq::extents_t<2>{2, 3});
    auto bad = v.reshape<1>({7});  // 6 elements cannot become 7: handler, then abort
    std::printf("not reached %p\n", static_cast<void*>(bad.data()));
    _exit(0);
  }
  close(fds[1]);
  char message[512] = {};
  ssize_t total = 0, n;
  while ((n = read(fds[0], message + total, sizeof(message) - 1 - static_cast<size_t>(total))) > 0) total += n;
  int status = 0;
  waitpid(pid, &status, 0);
  const bool aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  const bool named = std::strstr(message, "tensor_view::reshape: new extents [7]") != nullptr;
  std::printf("handler message: %s\nchild aborted: %s\n", message, aborted ? "yes" : "no");
  std::printf("%s\n", aborted && named ? "PASSED" : "FAILED");
  return aborted && named ? 0 : 1;
}
