-- ldoc_items: an LDoc filter (`ldoc --filter ldoc_items.print .`) that
-- prints the functions and methods the reference documents, one
-- "<module>\t<name>" line each (methods as "Class:name"), for
-- tools/check-docs. Topics (the Markdown pages) are skipped.
local M = {}

function M.print(modules)
  for mod in modules:iter() do
    if mod.type ~= "topic" then
      for item in mod.items:iter() do
        if item.type == "function" then io.write("DOC\t", mod.name, "\t", item.name, "\n") end
      end
    end
  end
end

return M
