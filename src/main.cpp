// starpunk — entry point. Everything happens in cli/.
#include "cli/commands.hpp"

int main(int argc, char** argv) { return starpunk::cli::run(argc, argv); }
