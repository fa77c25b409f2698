-- iothub.paging: iterators over continuation-token paging (x-ms-max-item-count
-- and x-ms-continuation), shared by every paged query. Iterators raise the
-- error table on failure, like io.lines; single pages return nil, err.
-- Every error they raise is an iothub error table (its tostring is the
-- message; see iothub.assert for Lua 5.1, which prints no table).
local core = require("iothub.core")

local M = {}

local error, min = error, math.min

-- fetch(continuation, page_size) -> items, next_continuation | nil, err
-- Returns an iterator over pages ({ items =, continuation = }), honouring
-- `limit` by asking for fewer items on the last page.
function M.pages(fetch, page_size, limit)
  local token, done, seen = nil, false, 0
  return function()
    if done then return nil end
    local want = page_size
    if limit then
      local left = limit - seen
      if left <= 0 then done = true return nil end
      want = want and min(want, left) or left
    end
    local items, next_token = fetch(token, want)
    if not items then
      done = true
      error(next_token, 2)
    end
    if limit and #items > limit - seen then
      for i = #items, limit - seen + 1, -1 do items[i] = nil end
    end
    seen = seen + #items
    if next_token == nil or (limit and seen >= limit) then
      done = true
    elseif next_token == token then
      done = true
      error(core.error("decode", "the service returned the same continuation token twice"), 2)
    end
    token = next_token
    return { items = items, continuation = next_token }
  end
end

-- An iterator over the items of a page iterator.
function M.items(pages)
  local page, i = nil, 0
  return function()
    while true do
      if page and i < #page.items then
        i = i + 1
        return page.items[i]
      end
      page, i = pages(), 0
      if page == nil then return nil end
    end
  end
end

return M
