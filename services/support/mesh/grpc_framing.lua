-- A gRPC call that sends one message (a unary call, a watch) reaches its service only once its request has
-- come whole and its messages fit it.
--
-- Runs on those routes of the edge alone. The request is buffered (up to the route's limit) before it goes
-- on, so a client that never finishes sending holds nothing beyond the edge; and a request whose last
-- message claims more bytes than the stream carried is refused here: a gRPC server left such a call
-- unanswered until the edge's stream duration (a watch: its idle timeout) ran out, holding one of the
-- edge's concurrent calls to the service.
-- A REST call the transcoder made is whole by construction: it passes untouched.

local PREFIX = 5 -- a message's compression flag and its four-byte big-endian length

local function refuse(handle)
  handle:respond({
    [":status"] = "200",
    ["content-type"] = "application/grpc",
    ["grpc-status"] = "3",
    ["grpc-message"] = "the request's gRPC messages do not fit its body (a length prefix claims more bytes than were sent)",
  }, "")
end

local function framed(body, size)
  local offset = 0
  while offset < size do
    if size - offset < PREFIX then
      return false
    end
    local b1, b2, b3, b4 = body:getBytes(offset + 1, 4):byte(1, 4)
    offset = offset + PREFIX + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  end
  return offset == size
end

function envoy_on_request(handle)
  if handle:headers():get("x-envoy-original-path") ~= nil then
    return
  end
  local body = handle:body()
  local size = body == nil and 0 or body:length()
  if not framed(body, size) then
    refuse(handle)
  end
end
