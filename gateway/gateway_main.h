// The gateway's node program (runtime/node_main.h): what `scorepipe-gateway`
// and `scorepipe gateway` run. It raises the open-file limit to its hard
// maximum (every connection is a descriptor), starts gateway.threads
// Gateways on one port (0: one per CPU core), serves metrics, and runs them until a stop.
#ifndef SCOREPIPE_GATEWAY_GATEWAY_MAIN_H_
#define SCOREPIPE_GATEWAY_GATEWAY_MAIN_H_

#include "runtime/node_main.h"

namespace scorepipe {

NodeProgram GatewayProgram();

}  // namespace scorepipe

#endif  // SCOREPIPE_GATEWAY_GATEWAY_MAIN_H_
