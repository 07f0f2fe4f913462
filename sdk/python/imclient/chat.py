"""``python -m imclient chat``: a full-screen terminal chat on the SDK (Textual).

Left: the conversation list with unread counts, newest first. Right: the open
conversation's history from the local store and live messages; type below and press
Enter to send. ``/to USER`` opens a single chat, ``/group GROUP_ID`` a group chat.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, Label, ListItem, ListView, RichLog, Static

from imclient import models
from imclient.client import Client
from imclient.errors import IMError
from imclient.models import GROUP_CHAT, Conversation, Message


def describe(conv: Conversation, names: dict[str, str] | None = None) -> str:
    """One row of the conversation list: the name, the unread count, the last message."""
    unread = f" ({conv.unread})" if conv.unread else ""
    last = conv.last_message.text if conv.last_message else ""
    if len(last) > 24:
        last = last[:23] + "…"
    kind = "#" if conv.session_type == GROUP_CHAT else "@"
    title = (names or {}).get(conv.group_id, conv.title) if conv.group_id else conv.title
    return f"{kind}{title}{unread}  {last}".rstrip()


def render_line(msg: Message) -> str:
    when = time.strftime("%H:%M", time.localtime(msg.send_time / 1000)) if msg.send_time else "--:--"
    who = msg.send_id or "system"
    return f"{when} {who}: {msg.text}"


class ChatApp(App[None]):
    TITLE = "imclient chat"
    CSS = """
    #convs { width: 34; border-right: solid $accent; }
    #title { height: 1; background: $boost; padding: 0 1; }
    #log { height: 1fr; }
    #input { dock: bottom; }
    """
    BINDINGS = [Binding("ctrl+q", "quit", "Quit"), Binding("ctrl+r", "sync", "Sync")]

    def __init__(self, client: Client | None = None, *, server: str = "", token: str = "", platform_id: int = 5,
                 db_path: str | None = None) -> None:
        super().__init__()
        self.client = client
        self._own_client = client is None
        self._args: dict[str, Any] = {"base_url": server, "token": token, "platform_id": platform_id,
                                      "db_path": db_path}
        self.current: str | None = None  # the open conversation
        self.target: dict[str, str] = {}  # where Enter sends: {"to_user_id": …} or {"group_id": …}
        self.row_ids: list[str] = []  # conversation id of each list row
        self.rows: list[str] = []  # the list rows as shown
        self.lines: list[str] = []  # the open conversation as shown
        self.group_names: dict[str, str] = {}
        self.status = "connecting"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ListView(id="convs")
            with Vertical():
                yield Static("no conversation open: pick one, or type /to USER", id="title")
                yield RichLog(id="log", wrap=True, markup=False)
                yield Input(placeholder="message  (/to USER, /group GROUP_ID)", id="input")
        yield Footer()

    async def on_mount(self) -> None:
        self.query_one("#log", RichLog).can_focus = False  # Tab moves between the list and the input
        if self.client is None:
            self.client = Client(**self._args)
            await self.client.open()
        self.sub_title = f"{self.client.user_id} · connected"
        self.listen()
        await self.client.sync()
        await self.load_group_names()
        await self.refresh_list()
        if self.row_ids and self.current is None:
            await self.open_conversation(self.row_ids[0])
        self.query_one("#input", Input).focus()

    async def on_unmount(self) -> None:
        if self._own_client and self.client is not None:
            await self.client.close()

    # ------------------------------------------------------------------ events from the SDK
    @work(exclusive=True, group="events")
    async def listen(self) -> None:
        assert self.client is not None
        async for event in self.client.events():
            if isinstance(event, models.MessageReceived):
                if event.message.group_id and event.message.group_id not in self.group_names:
                    await self.load_group_names()
                if event.message.conversation_id == self.current:
                    self.show(event.message)
                    if event.message.send_id != self.client.user_id:
                        with contextlib.suppress(IMError):
                            await self.client.mark_read(event.message.conversation_id, event.message.seq)
                await self.refresh_list()
            elif isinstance(event, models.MessageRevoked | models.MessageDeleted):
                if event.conversation_id == self.current:
                    self.redraw_log()
                await self.refresh_list()
            elif isinstance(event, models.ConversationChanged):
                await self.refresh_list()
            elif isinstance(event, models.ConnectionState):
                self.status = event.state
                self.sub_title = f"{self.client.user_id} · {event.state}"
            elif isinstance(event, models.Kicked):
                self.status = "kicked"
                self.sub_title = f"{self.client.user_id} · signed out ({event.reason})"
                self.notify("This session was ended by the server.", severity="error", timeout=30)
            elif isinstance(event, models.Typing) and event.conversation_id == self.current and event.typing:
                self.notify(f"{event.user_id} is typing…", timeout=2)

    async def load_group_names(self) -> None:
        assert self.client is not None
        with contextlib.suppress(IMError, OSError):
            self.group_names = {g["group"]["group_id"]: g["group"]["name"] for g in await self.client.groups()}

    # ------------------------------------------------------------------ drawing
    async def refresh_list(self) -> None:
        assert self.client is not None
        convs = self.client.conversations()
        names = self.group_names
        rows = [describe(c if c.conversation_id != self.current else _read(c), names) for c in convs]
        ids = [c.conversation_id for c in convs]
        if rows == self.rows and ids == self.row_ids:
            return
        view = self.query_one("#convs", ListView)
        keep = view.index
        self.rows, self.row_ids = rows, ids
        await view.clear()
        await view.extend(ListItem(Label(row)) for row in rows)
        if self.current in ids:
            view.index = ids.index(self.current)
        elif keep is not None and rows:
            view.index = min(keep, len(rows) - 1)

    def show(self, msg: Message) -> None:
        line = render_line(msg)
        self.lines.append(line)
        self.query_one("#log", RichLog).write(line)

    def redraw_log(self) -> None:
        """The open conversation's history from the store (the newest 200)."""
        assert self.client is not None
        self.query_one("#log", RichLog).clear()
        self.lines = []
        if self.current is not None:
            for msg in self.client.history(self.current, limit=200):
                if not msg.is_placeholder:
                    self.show(msg)

    async def open_conversation(self, conversation_id: str) -> None:
        assert self.client is not None
        self.current = conversation_id
        conv = self.client.conversation(conversation_id)
        if conv is not None:
            self.target = {"group_id": conv.group_id} if conv.session_type == GROUP_CHAT else {"to_user_id": conv.peer_id}
        self.redraw_log()
        title = conversation_id
        if conv is not None:
            title = self.group_names.get(conv.group_id, conv.title) if conv.group_id else conv.title
        self.query_one("#title", Static).update(title)
        if conv is not None and conv.unread:
            with contextlib.suppress(IMError):
                await self.client.mark_read(conversation_id)
        await self.refresh_list()

    # ------------------------------------------------------------------ input
    @on(ListView.Selected, "#convs")
    async def picked(self, event: ListView.Selected) -> None:
        index = event.list_view.index
        if index is not None and index < len(self.row_ids):
            await self.open_conversation(self.row_ids[index])
            self.query_one("#input", Input).focus()

    @on(Input.Submitted, "#input")
    async def submitted(self, event: Input.Submitted) -> None:
        assert self.client is not None
        text = event.value.strip()
        event.input.value = ""
        if not text:
            return
        if text.startswith("/to ") or text.startswith("/group "):
            command, _, who = text.partition(" ")
            who = who.strip()
            self.target = {"to_user_id": who} if command == "/to" else {"group_id": who}
            cid = "sg_" + who if command == "/group" else "si_" + "_".join(sorted((self.client.user_id, who)))
            self.current = cid
            self.redraw_log()
            self.query_one("#title", Static).update(self.group_names.get(who, who) if command == "/group" else who)
            return
        if not self.target:
            self.notify("Open a conversation first (/to USER or /group GROUP_ID).", severity="warning")
            return
        self.send(text, dict(self.target))

    @work(group="send")
    async def send(self, text: str, target: dict[str, str]) -> None:
        assert self.client is not None
        try:
            await self.client.send_text(text=text, **target)
        except (IMError, ValueError) as err:
            self.notify(f"not sent: {err}", severity="error")

    async def action_sync(self) -> None:
        assert self.client is not None
        await self.client.sync()
        await self.refresh_list()


def _read(conv: Conversation) -> Conversation:
    """The open conversation shows no unread count (it is being read)."""
    from dataclasses import replace

    return replace(conv, read_seq=max(conv.read_seq, conv.max_seq, conv.local_max))


def run_chat(server: str, token: str, platform_id: int = 5, db_path: str | None = None) -> None:
    ChatApp(server=server, token=token, platform_id=platform_id, db_path=db_path).run()
