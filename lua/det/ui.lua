-- det.ui: the workbench screen from Lua (doc/api/ui.md). The functions are
-- the C module's (src/lua/lui.c); without a screen they return nil and a
-- message.
local core = require "det.core"

return core.ui
