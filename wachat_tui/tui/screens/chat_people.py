"""The Chat pane's people and setting: who the model plays, who you are, where (a chat of the
project, or a new one), who a simulation is between, and the turn-taking it follows. A mixin of
:class:`~wachat_tui.tui.screens.chat.ChatScreen` (it uses the pane's conversation, store and header)."""
from __future__ import annotations

from ...errors import WachatError
from ..util import one_line


class ChatPeople:
    """People and setting of the Chat pane (mixed into ChatScreen)."""

    def _settle(self, project, talkers: list[str], ref: str | None) -> list[str]:
        """Choose the setting for ``talkers`` (``ref``: a chat id, "new", None: the one they
        share); returns its people. An unknown setting falls back to the shared one."""
        from ...core.setting import choose_setting, new_setting

        try:
            self.setting = choose_setting(project, talkers, ref)
        except WachatError as exc:
            self.notify(one_line(exc), severity="warning")
            try:
                self.setting = choose_setting(project, talkers)
            except WachatError:     # people the project does not know (a bare test project)
                self.setting = new_setting(talkers)
        return list(dict.fromkeys([*self.setting.people, *talkers]))

    def _conversation_options(self) -> dict:
        setting = self.setting
        return {"chat_name": setting.chat_name if setting else None,
                "platform": setting.platform if setting else "whatsapp",
                "model_name": self.chat_model.name if self.chat_model else ""}

    def action_pick(self) -> None:
        if self.conversation is None or self.project is None:
            return
        if self.busy:
            self.notify("Stop the reply or the simulation first (Esc).", severity="warning")
            return
        from .pick import PickScreen

        project = self.project
        people = list(dict.fromkeys([*project.participants, self.you, self.model_plays]))
        chats = [(c.label(), c.id) for c in project.chats]
        self.pick.you, self.pick.model_plays = self.you, self.model_plays
        self.app.push_screen(PickScreen(people, chats, self.pick), self._picked)

    def _picked(self, pick) -> None:
        if pick is None or self.project is None:
            return
        self._start_conversation(pick, [pick.you, pick.model_plays])

    def _start_conversation(self, pick, talkers: list[str]) -> None:
        """A new conversation for ``pick`` (the old one stays saved)."""
        from ...chat.session import Conversation

        self.pick = pick
        participants = self._settle(self.project, talkers, pick.setting)
        self.conversation = Conversation(participants, pick.you, pick.model_plays, store=self.store,
                                         **self._conversation_options())
        self._render_history()
        self._update_header()
        self.notify(f"You are {pick.you}; the model plays {pick.model_plays} — {self.setting.label()}.")

    def _setting_turn_taking(self, people: list[str]):
        """Who answers whom, bursts and pace for ``people`` in the current setting (worker thread);
        None when the project's messages cannot be read (the personas then alternate)."""
        from ...core.turntaking import for_setting

        project = self.project
        chat_id = self.setting.chat_id if self.setting else None
        try:
            if "overall" not in self._turn_taking:
                self._turn_taking["overall"] = project.turn_taking()
            if chat_id is not None and chat_id not in self._turn_taking:
                self._turn_taking[chat_id] = project.turn_taking(chat_id)
        except (WachatError, OSError):
            return None
        return for_setting(self._turn_taking.get(chat_id), self._turn_taking["overall"], people)
