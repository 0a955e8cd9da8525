// berth: the engine's command line. Thin: parse flags, call the library,
// print, exit code.
#include <cstdio>

int main(int, char **) {
  std::fputs("berth: no commands yet\n", stderr);
  return 1;
}
