-- HEAD on the REST API, answered as the GET it stands for without the body (RFC 9110 9.3.2).
--
-- Only HEAD requests run this (the edge's HEAD route turns the filter on for them). The transcoder knows the
-- GET binding only, so the request goes on as a GET; the answer's body is dropped and its length kept in
-- content-length, as the GET would have said it. A local reply to a HEAD has no body already.

function envoy_on_request(handle)
  handle:headers():replace(":method", "GET")
end

function envoy_on_response(handle)
  local body = handle:body()
  if body == nil then
    return
  end
  local length = body:length()
  body:setBytes("")
  -- Waiting for the body invalidated the header object taken before it: ask again.
  handle:headers():replace("content-length", tostring(length))
end
