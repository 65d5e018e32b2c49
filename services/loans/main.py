"""Composition root of the loans service: build the graph once, then serve."""

from __future__ import annotations

from functools import partial

from athenaeum.loans.v1 import loans_pb2_grpc
from services.loans.service import LoansServicer
from services.loans.settings import LoansSettings
from services.runtime.infrastructure import Infrastructure
from services.runtime.server import ServiceApp, run

NAME = "loans"


async def build(settings: LoansSettings) -> ServiceApp:
    infra = Infrastructure.open(NAME, settings)
    return infra.app(
        [
            partial(loans_pb2_grpc.add_LoansServiceServicer_to_server, LoansServicer()),
        ]
    )


def main() -> None:
    settings = LoansSettings()
    run(partial(build, settings), settings=settings, name=NAME)


if __name__ == "__main__":
    main()
