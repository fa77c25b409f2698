-- iothub.auth: how a client authorises its requests, and the one rule for
-- a 401 that every client follows: renew the authorisation once and send
-- again (the cached signature or token may have expired on the service's
-- clock, or been revoked; a 401 means the request did not run, so even a
-- create may go again). Two kinds:
--   sas(client): the core signs every request with the connection string's
--     key; renewing drops its cached signature (false for a ready
--     SharedAccessSignature, which cannot be renewed).
--   bearer(credential, scope): Azure AD tokens from an iothub.credential,
--     cached by the credential; renewing fetches a fresh one.
-- Tokens live only in the headers of a request, never in this object.
local transport = require("iothub.transport")

local M = {}

local type, pairs = type, pairs

function M.sas(client)
  return { kind = "sas", client = client }
end

function M.bearer(credential, scope)
  return { kind = "bearer", credential = credential, scope = scope }
end

-- The headers to send: headers (may be nil) plus the bearer token, then
-- nil and the token used; for SAS headers as they are, maybe nil (the core
-- adds the signature). nil, err when no token can be had (the credential's
-- "auth" error). token: one just renewed.
function M.headers(auth, headers, token)
  if auth.kind ~= "bearer" then return headers end
  local err
  if not token then
    token, err = auth.credential:get_token(auth.scope)
    if not token then return nil, err end
  end
  local out = { Authorization = "Bearer " .. token }
  if headers then
    for k, v in pairs(headers) do out[k] = v end
  end
  return out, nil, token
end

-- After err: true (and a bearer's fresh token) when it is a 401 and the
-- authorisation was renewed; false (and the credential's error, if
-- fetching failed) otherwise. used: the bearer token the refused request
-- carried; when the credential already holds another (a task or coroutine
-- renewed it meanwhile), that one is taken instead of fetching again.
function M.renew(auth, err, used)
  if type(err) ~= "table" or err.status ~= 401 then return false end
  if auth.kind ~= "bearer" then return auth.client:renew_auth() end
  local current = auth.credential:get_token(auth.scope)
  if current and current ~= used then return true, current end
  local token, terr = auth.credential:get_token(auth.scope, true)
  if not token then return false, terr end
  return true, token
end

-- One authorised request on client (as transport.request), renewed and sent
-- once more after a 401.
function M.send(auth, client, method, target, headers, body)
  local sent, herr, used = M.headers(auth, headers)
  if herr then return nil, herr end
  local value, b, c = transport.request(client, method, target, sent, body)
  if value == nil then
    local renewed, fresh = M.renew(auth, b, used)
    if not renewed and fresh then return nil, fresh end
    if renewed then
      sent, herr = M.headers(auth, headers, fresh)
      if herr then return nil, herr end
      value, b, c = transport.request(client, method, target, sent, body)
    end
  end
  return value, b, c
end

return M
