#pragma once
// The loopback interface of a network namespace the container made itself.

namespace urun::linux {

// Brings `lo` up (SIOCSIFFLAGS), as crun does: a new network namespace starts
// with its loopback down, and a container expects 127.0.0.1 to work. Only for
// a namespace the container created: a joined one is someone else's. Needs
// CAP_NET_ADMIN over the namespace. Throws Error.
void bring_up_loopback();

}  // namespace urun::linux
