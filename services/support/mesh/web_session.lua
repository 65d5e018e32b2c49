-- The web client's refresh token lives in an HttpOnly cookie, never where a script could read it.
--
-- Only requests that opt in with "x-athenaeum-session: cookie" (the web client) are touched; every other
-- client sends and receives the refresh token in the JSON body as the API documents. For those requests:
--   login, register, refresh  the refresh token is moved from the response body into the cookie;
--   refresh, logout           the cookie is moved into the request body the users service expects;
--   logout, a refused refresh the cookie is cleared (refused: 401/403; after a 429, 5xx or no answer the
--                             token was not spent, so the cookie keeps it for the client's retry).
-- The cookie is HttpOnly, SameSite=Strict, scoped to /v1/auth and Secure when the request came over TLS;
-- a request whose Origin is another site is refused (the custom header already forces a CORS preflight).

local COOKIE = "athenaeum_refresh"
local COOKIE_PATH = "/v1/auth"
local METADATA = "athenaeum.web_session"
local LOGIN, REGISTER = "/v1/auth/login", "/v1/auth/register"
local REFRESH, LOGOUT = "/v1/auth/refresh", "/v1/auth/logout"
local TOKEN_FIELD = '"refresh_token"%s*:%s*"([^"]*)"'
local TOKEN_SHAPE = "^[%w_%-]+$" -- secrets.token_urlsafe: nothing that could break out of JSON

local HANDLED = { [LOGIN] = true, [REGISTER] = true, [REFRESH] = true, [LOGOUT] = true }

local function cookie_from(header)
  if header == nil then
    return nil
  end
  for name, value in string.gmatch(header, "([^=;%s]+)=([^;]*)") do
    if name == COOKIE then
      return value
    end
  end
  return nil
end

local function over_tls(handle, headers)
  return headers:get("x-forwarded-proto") == "https" or handle:streamInfo():downstreamSslConnection() ~= nil
end

local function set_cookie(value, secure)
  local attributes = "; Path=" .. COOKIE_PATH .. "; HttpOnly; SameSite=Strict"
  if value == "" then
    attributes = attributes .. "; Max-Age=0"
  end
  if secure then
    attributes = attributes .. "; Secure"
  end
  return COOKIE .. "=" .. value .. attributes
end

local function same_origin(headers)
  local origin = headers:get("origin")
  if origin == nil then
    return true -- not a browser, or a browser that sends none for same-origin requests
  end
  local host = headers:get(":authority") or ""
  return origin == "http://" .. host or origin == "https://" .. host
end

-- Answers at the edge (the users service never sees the request); `secure` is nil to leave the cookie as it
-- is (a forged cross-site request must not be able to sign anyone out), else the cookie is cleared.
local function reply(handle, status, body, secure)
  local headers = { [":status"] = status, ["content-type"] = "application/json" }
  if secure ~= nil then
    headers["set-cookie"] = set_cookie("", secure)
  end
  handle:respond(headers, body)
end

-- The edge's local_reply_config writes the Status JSON (its code from the HTTP status) around the reason:
-- a body of JSON here came out as a Status inside the message of another.
local function refuse(handle, status, message, secure)
  reply(handle, status, message, secure)
end

function envoy_on_request(handle)
  local headers = handle:headers()
  if headers:get("x-athenaeum-session") ~= "cookie" then
    return
  end
  local path = headers:get(":path")
  if headers:get(":method") ~= "POST" or not HANDLED[path] then
    return
  end
  local secure = over_tls(handle, headers)
  if not same_origin(headers) then
    -- 401 like every refused credential at the edge (its local 403s are answered as 401 anyway).
    refuse(handle, "401", "cross-origin session request refused", nil)
    return
  end
  if path == REFRESH or path == LOGOUT then
    local token = cookie_from(headers:get("cookie"))
    if token == nil or not string.match(token, TOKEN_SHAPE) then
      if path == LOGOUT then
        reply(handle, "200", "{}", secure) -- already signed out: logout is idempotent
      else
        refuse(handle, "401", "no session: sign in", secure)
      end
      return
    end
    -- The client sends "{}" so that there is a body to replace (a request without one cannot get one).
    local body = handle:body()
    if body == nil then
      refuse(handle, "400", "send an empty JSON object as the body", nil)
      return
    end
    body:setBytes('{"refresh_token":"' .. token .. '"}')
    handle:headers():replace("content-type", "application/json")
  end
  local metadata = handle:streamInfo():dynamicMetadata()
  metadata:set(METADATA, "path", path)
  metadata:set(METADATA, "secure", secure)
end

function envoy_on_response(handle)
  local session = handle:streamInfo():dynamicMetadata():get(METADATA)
  if session == nil then
    return
  end
  local headers = handle:headers()
  local status = headers:get(":status")
  if session.path == LOGOUT or (session.path == REFRESH and (status == "401" or status == "403")) then
    headers:add("set-cookie", set_cookie("", session.secure))
    return
  end
  if status ~= "200" then
    return
  end
  local body = handle:body()
  local text = body:getBytes(0, body:length())
  local token = string.match(text, TOKEN_FIELD)
  if token == nil or not string.match(token, TOKEN_SHAPE) then
    return
  end
  body:setBytes((string.gsub(text, TOKEN_FIELD, '"refresh_token":""', 1)))
  -- Waiting for the body invalidated the header object taken before it: ask again.
  handle:headers():add("set-cookie", set_cookie(token, session.secure))
end
