// scorepipe-gateway: online scoring over HTTP into the cluster.
#include "gateway/gateway_main.h"
#include "runtime/node_main.h"

int main(int argc, char** argv) { return scorepipe::NodeMain(argc, argv, scorepipe::GatewayProgram()); }
