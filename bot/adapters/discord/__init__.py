"""The Discord adapter: slash commands, buttons and attachments, translated to and from the core.

Every command is answered within Discord's 3 s with the core's reply. The acknowledgement of a
`/video` gets a Cancel button; its text is then edited with progress (at most one edit per
`progress_interval_seconds`, and posted again as a follow-up if someone deleted it). The clip
is posted to the channel, mentioning the user, with Reroll, Same seed and Delete buttons
(interaction tokens in memory only, a nonce so that a clip is posted once). Where replies go
(channel, user, the acknowledgement's message id, upload limit) is stored in the job's reply
target, so a restarted bot still delivers. Buttons are `DynamicItem`s matched by custom id
(`vb:<action>:<job id>`), so they keep working across restarts.

The modules: `adapter` (lifecycle and each command's handling), `tree` (the slash commands),
`admin_commands` (the typed `/videoadmin` commands), `handlers` (what the tree calls),
`buttons`, `status` (the acknowledgement and its progress), `delivery` (the result).
"""

from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.delivery import result_nonce
from bot.adapters.discord.startup import DiscordStartError

__all__ = ["DiscordAdapter", "DiscordStartError", "result_nonce"]
