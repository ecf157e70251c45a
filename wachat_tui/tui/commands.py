"""The command palette lists every action the current pane offers, with its key."""
from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ActionsProvider(Provider):
    """Every binding active on the screen the palette was opened from (pane keys included)."""

    def _commands(self):
        screen = self.screen
        seen = set()
        for key, active in screen.active_bindings.items():
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            if binding.action in ("command_palette", "app.command_palette"):
                continue
            seen.add(binding.action)
            title = binding.description
            group = getattr(binding.group, "description", "")
            if group and group not in title:
                title = f"{group}: {title}"
            key_display = self.app.get_key_display(binding)
            help_text = binding.tooltip or f"key: {key_display}"
            if binding.tooltip:
                help_text = f"{binding.tooltip}  (key: {key_display})"
            callback = partial(self.app.run_action, binding.action, active.node)
            yield title, help_text, callback, active.enabled

    async def discover(self) -> Hits:
        for title, help_text, callback, enabled in sorted(self._commands()):
            if enabled:
                yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback, enabled in self._commands():
            if not enabled:
                continue
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)
