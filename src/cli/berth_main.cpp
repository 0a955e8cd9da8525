// berth: the engine's command line. Thin: parse flags, call the library,
// print, exit code.
#include "cli/berth_images.hpp"
#include "cli/berth_registry.hpp"
#include "cli/flags.hpp"
#include "image/store.hpp"

#include <csignal>
#include <cstdio>

using namespace berth;

namespace {
constexpr const char *kVersion = "0.1.0";
}

int main(int argc, char **argv) {
  // A reader that goes away (berth save | head) is an error to report, not
  // a signal to die of.
  std::signal(SIGPIPE, SIG_IGN);
  cli::Parser app("berth", "containers and images on the OCI specifications (daemonless)");
  std::string root = image::default_root();
  app.globals().flag("--root DIR", "the image store (default $BERTH_ROOT or /var/lib/berth)", root);
  cli::ImageCommands images;
  images.add_to(app, true);
  cli::RegistryCommands registry;
  registry.add_to(app, cli::RegistryCommands::Where::top);
  std::vector<std::string> rest;
  auto *image_cmd =
      &app.add("image", "manage images: ls, inspect, rm, prune, tag, save, load, import, history, pull, push")
           .rest_args("COMMAND", rest);
  auto *manifest_cmd = &app.add("manifest", "registry manifests: inspect").rest_args("COMMAND", rest);

  auto parsed = app.parse(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "berth: %s\n", parsed.error().message().c_str());
    return 125;
  }
  if (parsed->version) {
    std::printf("berth version %s\n", kVersion);
    return 0;
  }
  if (parsed->help || !parsed->command) {
    auto *c = parsed->command;
    std::fputs((c && c != image_cmd && c != manifest_cmd ? app.help(*c) : app.help()).c_str(),
               parsed->help ? stdout : stderr);
    return parsed->help ? 0 : 125;
  }
  if (registry.handles(parsed->command)) return registry.run(parsed->command, root);
  if (parsed->command != image_cmd && parsed->command != manifest_cmd) return images.run(parsed->command, root);

  // `berth image|manifest SUBCOMMAND ...`: a parser of its own.
  bool is_image = parsed->command == image_cmd;
  cli::Parser sub(is_image ? "berth image" : "berth manifest", is_image ? "manage images" : "registry manifests");
  cli::ImageCommands image_sub;
  cli::RegistryCommands registry_sub;
  if (is_image) image_sub.add_to(sub, false);
  registry_sub.add_to(sub, is_image ? cli::RegistryCommands::Where::image : cli::RegistryCommands::Where::manifest);
  std::vector<char *> sargv{argv[0]};
  for (auto &r : rest) sargv.push_back(r.data());
  auto sp = sub.parse(int(sargv.size()), sargv.data());
  if (!sp) {
    std::fprintf(stderr, "berth: %s\n", sp.error().message().c_str());
    return 125;
  }
  if (sp->help || !sp->command) {
    std::fputs((sp->command ? sub.help(*sp->command) : sub.help()).c_str(), sp->help ? stdout : stderr);
    return sp->help ? 0 : 125;
  }
  if (registry_sub.handles(sp->command)) return registry_sub.run(sp->command, root);
  return image_sub.run(sp->command, root);
}
