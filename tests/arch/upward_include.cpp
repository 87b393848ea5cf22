// Compiled by the layers_* tests with a module's include directory only
// (build/layers/<module>): PROBE_HEADER names a header the module may or may
// not see. An upward include must fail to compile.
#include PROBE_HEADER

int main() { return 0; }
