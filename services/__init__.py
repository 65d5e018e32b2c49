"""Athenaeum's services and the support packages they share."""

import os

from services.support import lean_imports

# grpc/grpc#43055: with gRPC's fork handlers on (grpcio's default since 1.80), a child that Popen forks with a
# preexec_fn while a channel is busy restarts gRPC's poller, finds its epoll descriptor closed and aborts
# before exec (~1 start in 10 here): the launcher lost a sidecar that way. No process of ours uses gRPC
# across a fork (the events zygote forks before gRPC starts), so the handlers are off. gRPC reads this
# when it is imported: every entry point imports this package first.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

lean_imports.install()
