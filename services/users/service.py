"""Users servicers: proto -> command -> handler -> proto."""

from athenaeum.users.v1 import users_pb2_grpc


class UsersServicer(users_pb2_grpc.UsersServiceServicer):
    """UsersService: every RPC answers UNIMPLEMENTED until its use cases land (see the proto for the API)."""


class AuthServicer(users_pb2_grpc.AuthServiceServicer):
    """AuthService: every RPC answers UNIMPLEMENTED until its use cases land (see the proto for the API)."""
