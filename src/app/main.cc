#include "app/commands.h"

int main(int argc, char** argv) { return gb::app::RunCli(argc, argv); }
