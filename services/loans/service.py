"""Loans servicers: proto -> command -> handler -> proto."""

from athenaeum.loans.v1 import loans_pb2_grpc


class LoansServicer(loans_pb2_grpc.LoansServiceServicer):
    """LoansService: every RPC answers UNIMPLEMENTED until its use cases land (see the proto for the API)."""
