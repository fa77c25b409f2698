-- iothub.time: ISO 8601 (up to 7 fractional digits, as IoT Hub sends) and
-- RFC 1123 times to epoch seconds, computed in UTC without os.time (which
-- works in local time). Sentinel times (year 0001 or 9999) mean "no time".
local core = require("iothub.core")

local M = {}

local tonumber, type, floor = tonumber, type, math.floor

local months = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
                 Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function epoch(y, mo, d, h, mi, s)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then return nil end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
end

local function iso8601(s)
  local y, mo, d, h, mi, sec, rest =
    s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then
    y, mo, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
    if not y then return nil end
    h, mi, sec, rest = "0", "0", "0", ""
  end
  local frac, zone = rest:match("^%.(%d+)(.*)$")
  if frac then rest = zone end
  local offset = 0
  if rest ~= "" and rest ~= "Z" and rest ~= "z" then
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  local t = epoch(tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec))
  if not t then return nil end
  if frac then t = t + tonumber("0." .. frac) end
  return t - offset, tonumber(y)
end

local function rfc1123(s)
  local d, mon, y, h, mi, sec = s:match("^%a%a%a, (%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d or not months[mon] then return nil end
  return epoch(tonumber(y), months[mon], tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)), tonumber(y)
end

-- Parses s; returns epoch seconds, or nil for unset and sentinel times, or
-- nil and a "decode" error table when s is not a time this module knows.
function M.parse(s)
  if s == nil or s == "" then return nil end
  if type(s) == "number" then return s end
  if type(s) ~= "string" then
    error("iothub.time: expected a string or a number, got " .. type(s), 2)
  end
  local t, year = iso8601(s)
  if not t then t, year = rfc1123(s) end
  if not t then return nil, core.error("decode", "not an ISO 8601 or RFC 1123 time: " .. s:sub(1, 64)) end
  if year <= 1 or year >= 9999 then return nil end
  return t
end

-- Formats epoch seconds as ISO 8601 UTC with milliseconds and a Z.
function M.format(t)
  local secs = floor(t)
  local ms = floor((t - secs) * 1000 + 0.5)
  if ms == 1000 then secs, ms = secs + 1, 0 end
  local days = floor(secs / 86400)
  local rem = secs - days * 86400
  -- civil_from_days (H. Hinnant), inverse of days_from_civil.
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
    floor(rem / 3600), floor(rem % 3600 / 60), rem % 60, ms)
end

return M
