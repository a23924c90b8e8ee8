"""Every operation on a user's datapacks at repovizz2, each given the `Login` it acts as: read one,
create one and upload its files, resume an interrupted upload, send one file, read back the outcome,
rename, edit, add, replace and remove nodes (each edit undone as far as it can be when its upload
fails), and the name to offer when one is taken.

Views parse what was sent and render what comes back; everything that asks repovizz2 something or
changes what it holds is here.
"""
from __future__ import annotations

import posixpath
import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

from ..rules.assets import Asset, size_problem
from ..rules.characters import control_character_reason
from ..rules.datapack_tree import TreeNode, is_uploaded, walk_data_nodes
from ..rules.document_builder import guess_mime, readable_name
from ..rules.errors import NameTaken, Repovizz2Error
from ..rules.links import normalize_path
from ..rules.media_types import base_mime
from ..rules.problems import DatapackInvalid
from ..rules.tree_edits import EditError, add_node, data_node, free_link, node_at, node_fingerprint, put_node, \
    remove_node, set_info, set_node_fields, set_node_link, set_node_mime, set_node_type, shares_link
from . import node_files
from .datapack_summaries import listed_ids, page_of_summaries
from .example_calls import example_calls
from .login import Login
from .repovizz2_client import Repovizz2Client
from .request_files import limits
from .sent_files import recall, remember
from .upload_pipeline import Outcome, Plan, next_name, plan_upload, recorded_outcome, send_file, sizes_of, \
    upload_files


def _client(login: Login, show_calls: bool = False) -> Repovizz2Client:
    """The login's client, recording its calls from now on when the portal shows them."""
    client = login.client()
    if show_calls:
        client.record_calls()
    return client


def datapack(login: Login, datapack_id: str, *, show_calls: bool = False) -> dict:
    """The datapack as repovizz2 holds it now (its name, its document in ``structure``…)."""
    return _client(login, show_calls).datapack(datapack_id)


# --- Creating, uploading, resuming ------------------------------------------------------------------

def create_and_upload(login: Login, document: dict, plan: Plan, *, show_calls: bool = False,
                      explain_taken: bool = True) -> Outcome:
    """The documented flow: create → list content → post each pending file → list again.

    Once the datapack exists, before any file is sent, this login session notes what it sends (for a
    result page after a resume). A taken name raises NameTaken, explained (see `explained`) unless
    `explain_taken` is off (a caller about to try another name). With `show_calls` the outcome
    carries every call made, for the result page.
    """
    client = _client(login, show_calls)
    try:
        item = client.create_datapack(document["info"]["name"], login.owner()["id"], document)
    except NameTaken as taken:
        raise explained(login, taken) if explain_taken else taken
    datapack_id = item["id"]
    remember(login, datapack_id, document, sizes_of(plan))
    _, error = upload_files(client, datapack_id, plan, login.username)
    result = recorded_outcome(client, datapack_id, document, sizes_of(plan), error)
    result.left_out = list(plan.left_out)
    return result


def create(login: Login, document: dict, plan: Plan, *, show_calls: bool = False) -> tuple[str, list | None]:
    """Create the datapack whose files the browser (or a script) will send itself; its id, and the
    calls made when they are shown. As the notebook does, the links still to upload are listed
    before any file is sent."""
    client = _client(login, show_calls)
    try:
        item = client.create_datapack(document["info"]["name"], login.owner()["id"], document)
    except NameTaken as taken:
        raise explained(login, taken)
    if client.calls is not None:
        client.content(item["id"])
    remember(login, item["id"], document, sizes_of(plan))
    return item["id"], client.calls


def waiting_links(document: dict) -> list[str]:
    """Every link of the document still waiting for its file."""
    return [node.link for node in walk_data_nodes(document) if not node.uploaded and isinstance(node.link, str)]


def plan_resume(login: Login, datapack_id: str, document: dict, assets: list[Asset]) -> Plan:
    """Which of `assets` go to the links of the stored `document` still pending (DatapackInvalid when
    none does, or the files clash), noted by this login session before anything is sent."""
    plan = plan_upload(document, assets, limits(), resume=True)
    remember(login, datapack_id, document, sizes_of(plan))
    return plan


def resume(login: Login, datapack_id: str, document: dict, assets: list[Asset]) -> Outcome:
    """Finish an interrupted upload: only the links repovizz2 still lists as pending are sent; the
    outcome shows every file, those sent before included."""
    plan = plan_resume(login, datapack_id, document, assets)
    client = login.client()
    _, error = upload_files(client, datapack_id, plan, login.username)
    return recorded_outcome(client, datapack_id, document, sizes_of(plan), error, earlier=recall(datapack_id))


def send_one(login: Login, datapack_id: str, link: str, source: BinaryIO, size: int, mime: str, place: str = "",
             *, show_calls: bool = False) -> tuple[str | None, list | None]:
    """Stream one file to its link. Its new ``repovizz:<id>``, also when repovizz2 answered only "OK"
    (read then from the node at `place`), and the calls made when they are shown."""
    client = _client(login, show_calls)
    ref = send_file(client, datapack_id, link, source, size, mime, login.username)
    if ref is None:
        ref = _reference_at(client, datapack_id, place)
    return ref, client.calls


def send_to_node(login: Login, datapack_id: str, place: str, asset: Asset, *, expect: str | None = None,
                 show_calls: bool = False) -> tuple[str, str | None, list | None]:
    """Send one file to the pending data node at `place`, whatever its link says (see `node_files`):
    the link it went to, the node's new ``repovizz:<id>``, and the calls made when they are shown."""
    client = _client(login, show_calls)
    link, ref = node_files.send_to_node(client, datapack_id, place, asset, expect=expect, user=login.username)
    return link, ref, client.calls


def send_chosen_to_node(login: Login, datapack_id: str, place: str, expect: str, asset: Asset) -> str | None:
    """The file chosen on a pending node's own box, sent to that node whatever its link says: the
    node's new ``repovizz:<id>`` (None when repovizz2 answered only "OK"); EditRefused when the file
    or the node will not do (nothing sent)."""
    try:
        _checked(asset)
        asset.mime = guess_mime(asset.path, asset.mime)
        _, ref, _ = send_to_node(login, datapack_id, place, asset, expect=expect)
    except (EditError, DatapackInvalid) as error:
        raise _nothing_was("sent", error) from None
    return ref


def example_again(login: Login, datapack_id: str):
    """The user's copy of the example, with the calls that made it rebuilt from what repovizz2 holds
    (see `example_calls`): the item, the calls, and each link's file name and new reference."""
    return example_calls(login.client(), datapack_id)


def _reference_at(client: Repovizz2Client, datapack_id: str, place: str) -> str | None:
    """The ``repovizz:<id>`` link of the data node at `place`, or None (no place given, or no uploaded
    data node there)."""
    if not place:
        return None
    try:
        node = node_at(client.datapack(datapack_id).get("structure") or {}, place)
    except EditError:
        return None
    link = node.get("link") if isinstance(node, dict) and node.get("class") == "data" else None
    return link if isinstance(link, str) and is_uploaded(link) else None


def outcome(login: Login, datapack_id: str, original: dict | None, sizes: dict[str, int],
            reported: list[dict] = (), *, show_calls: bool = False) -> Outcome:
    """The result page's outcome after the browser sent the files itself: read back from repovizz2,
    paired with what this session noted; `reported` are the calls the browser says it made."""
    client = _client(login, show_calls)
    result = recorded_outcome(client, datapack_id, original, sizes, earlier=recall(datapack_id))
    result.calls = list(reported) + result.calls
    return result


# --- A taken name -------------------------------------------------------------------------------------

NAME_LOOKUPS = 50  # the user's last-listed datapacks whose names a suggested name must not take


def explained(login: Login, taken: NameTaken) -> NameTaken:
    """`taken`, with how many files the datapack that has the name still waits for
    (``existing_pending``, None when that cannot be told) and a free name to offer (``suggested_name``)."""
    taken.existing_pending = pending_files(login, taken.existing_id)
    taken.suggested_name = free_name(login, taken.name) if taken.name else ""
    return taken


def pending_files(login: Login, datapack_id: str | None) -> int | None:
    """How many files the datapack still waits for; None when that cannot be told."""
    if not datapack_id:
        return None
    try:
        item = login.client().datapack(datapack_id)
    except Repovizz2Error:
        return None
    return sum(1 for node in walk_data_nodes(item["structure"]) if not node.uploaded)


def free_name(login: Login, name: str) -> str:
    """The next numbered name ("… (2)", "… (3)", …) that none of the user's newest datapacks has."""
    try:
        summaries = page_of_summaries(login, listed_ids(login.client().user())[-NAME_LOOKUPS:])
        taken = {line.get("name") for line in summaries}
    except Repovizz2Error:
        taken = set()  # the suggestion is only a suggestion: a taken one meets the same page again
    suggested = next_name(name)
    while suggested in taken:
        suggested = next_name(suggested)
    return suggested


# --- Edits ----------------------------------------------------------------------------------------------

class EditRefused(Exception):
    """An edit that was not made, and why: "Nothing was <verb>: <why>"."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _nothing_was(verb: str, error: Exception) -> EditRefused:
    if isinstance(error, DatapackInvalid):
        return EditRefused(f"Nothing was {verb}: " + "; ".join(error.problems))
    return EditRefused(f"Nothing was {verb}: {error}.")


def expected_node(document: dict, place: str, expect: str) -> dict:
    """The node at `place`, if it is still the one the form was made for (EditError otherwise)."""
    node = node_at(document, place)
    if not expect:
        raise EditError("the form did not say which node it was made for: look at the datapack again "
                        "and redo the change")
    if node_fingerprint(node) != expect:
        raise EditError("the datapack changed since this page was loaded (in another tab?): "
                        "look at it again and redo the change")
    return node


def node_to_remove(login: Login, datapack_id: str, place: str, expect: str) -> tuple[dict, dict]:
    """The datapack and the node a removal is about, if the page asking is still up to date."""
    item = datapack(login, datapack_id)
    try:
        return item, expected_node(item.get("structure") or {}, place, expect)
    except EditError as error:
        raise _nothing_was("removed", error) from None


def _document(client: Repovizz2Client, datapack_id: str) -> dict:
    return client.datapack(datapack_id).get("structure") or {}


def _save(client: Repovizz2Client, datapack_id: str, document: dict) -> None:
    """Store an edited document. The edit itself checked what it changed; the rest is what repovizz2
    already holds, and is not judged again by the portal's stricter rules for new datapacks."""
    client.update_datapack(datapack_id, structure=document)


@dataclass
class Renamed:
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def rename(login: Login, datapack_id: str, name: str) -> Renamed:
    """Give the datapack another name (its ``info.name`` too); NameTaken, explained, when the user has
    one of that name already."""
    new = " ".join(name.split())
    reason = control_character_reason(new)
    if reason:
        raise EditRefused(f"Nothing was renamed: the new name {reason}.")
    client = login.client()
    item = client.datapack(datapack_id)
    old = item.get("name", "")
    if new == old:
        return Renamed(old, new)
    try:
        client.update_datapack(datapack_id, name=new)
    except NameTaken as taken:
        raise explained(login, taken)
    document = item.get("structure")
    if isinstance(document, dict) and isinstance(document.get("info"), dict) and document["info"].get("name") != new:
        client.update_datapack(datapack_id, structure=set_info(document, name=new))
    return Renamed(old, new)


def with_datatype(document: dict, place: str, current, chosen: str, known: set[str]) -> dict:
    """With the data node's datatype as chosen: one of the `known` ids, or none ("") to remove it. The
    node's own type, as stored, chosen again changes nothing (even one the portal does not know)."""
    if chosen == current:
        return document
    if chosen and chosen not in known:
        raise EditError(f"{chosen[:80]!r} is not a datatype the portal knows")
    return set_node_type(document, place, chosen)


def edit_node(login: Login, datapack_id: str, place: str, expect: str, *, name: str, text: str,
              datatype: str | None = None, known_datatypes: set[str] = frozenset()) -> dict:
    """Change a node's name and text (and a data node's datatype, when `datatype` is given); the node
    as it is now."""
    client = login.client()
    document = _document(client, datapack_id)
    try:
        node = expected_node(document, place, expect)
        edited = set_node_fields(document, place, name=" ".join(name.split()), text=text.strip())
        if datatype is not None and node.get("class") == "data":
            edited = with_datatype(edited, place, node.get("type"), datatype, known_datatypes)
        _save(client, datapack_id, edited)
    except EditError as error:
        raise _nothing_was("changed", error) from None
    return node_at(edited, place)


def remove(login: Login, datapack_id: str, place: str, expect: str) -> dict:
    """Remove a node (and everything in it) for good; the node that was removed."""
    client = login.client()
    document = _document(client, datapack_id)
    try:
        node = expected_node(document, place, expect)
        _save(client, datapack_id, remove_node(document, place))
    except EditError as error:
        raise _nothing_was("removed", error) from None
    return node


def _checked(asset: Asset) -> Asset:
    """The file as sent, or EditError when it is empty or too large."""
    problem = size_problem(asset.path, asset.size, limits())
    if problem:
        raise EditError(f"the {problem}")
    return asset


@dataclass
class Added:
    name: str
    place: str
    link: str
    size: int


def add(login: Login, datapack_id: str, asset: Asset, *, name: str, text: str, parent: str) -> Added:
    """Append a data node whose link is the file's name, save the structure, then upload the file to it.
    Should the upload fail, the node stays, waiting for its file, and the failure is raised."""
    client = login.client()
    document = _document(client, datapack_id)
    link = unicodedata.normalize("NFC", posixpath.basename(normalize_path(asset.path or "")))
    name = " ".join(name.split()) or readable_name(link)
    mime = guess_mime(link, asset.mime)
    try:
        _checked(asset)
        asset.path, asset.mime = link, mime
        edited, place = add_node(document, data_node(name, text.strip(), link, mime), parent)
        plan = plan_upload(edited, [asset], limits(), resume=True)
        _save(client, datapack_id, edited)
    except (EditError, DatapackInvalid) as error:
        raise _nothing_was("added", error) from None
    _, error = upload_files(client, datapack_id, plan, login.username)
    if error is not None:
        raise error  # the node exists, waiting for its file: the error page links to the datapack
    return Added(name, place, link, asset.size)


def replace(login: Login, datapack_id: str, place: str, expect: str, asset: Asset) -> dict:
    """Send a new file to the node's current link (``repovizz:<id>``): repovizz2 replaces the file.
    The node's type follows the new file's; the node as it was is returned."""
    client = login.client()
    document = _document(client, datapack_id)
    try:
        node = expected_node(document, place, expect)
        if node.get("class") != "data" or not is_uploaded(node.get("link", "")):
            raise EditError(f"{place} is not an uploaded data node (upload its file from the pending form)")
        _checked(asset)
    except EditError as error:
        raise _nothing_was("replaced", error) from None
    mime = guess_mime(asset.path, asset.mime)
    if shares_link(document, place):
        _replace_shared(login, client, datapack_id, document, place, asset, mime)
    else:
        with asset.open() as source:
            new_link = send_file(client, datapack_id, node["link"], source, asset.size, mime, login.username)
        _update_mime(client, datapack_id, place, new_link, mime)
    return node


def _replace_shared(login: Login, client: Repovizz2Client, datapack_id: str, document: dict, place: str,
                    asset: Asset, mime: str) -> None:
    """Replace the file of a node whose ``repovizz:<id>`` another node shares (identical files get one id).

    An upload to that link would rewrite the first node that has it, which may be the other one. So the
    chosen node first gets a pending link of its own (and the new file's type), then the file goes to that
    link. The shared bytes stay: the other node still points at them. Should the upload fail, the node
    is pointed back at the shared file.
    """
    old = node_at(document, place)
    link = free_link(document, asset.path)
    edited = set_node_link(document, place, link)
    if mime and mime != "application/octet-stream":
        edited = set_node_mime(edited, place, mime)
    try:
        _save(client, datapack_id, edited)
    except EditError as error:
        raise _nothing_was("replaced", error) from None
    try:
        with asset.open() as source:
            send_file(client, datapack_id, link, source, asset.size, mime, login.username)
    except BaseException:
        _point_back(client, datapack_id, place, link, old)
        raise


def _point_back(client: Repovizz2Client, datapack_id: str, place: str, link: str, old: dict) -> None:
    """After a failed upload to the node's own pending `link`: give it back the node it was (best effort)."""
    try:
        document = _document(client, datapack_id)
        if node_at(document, place).get("link") != link:
            return
        client.update_datapack(datapack_id, structure=put_node(document, place, old))
    except (Repovizz2Error, EditError):
        pass  # the node stays pending, waiting for its file on the datapack page


def _update_mime(client: Repovizz2Client, datapack_id: str, place: str, new_link: str | None, mime: str) -> None:
    """Keep the node's type in step with the new file (a .wav replaced by an .mp3)."""
    if not mime or mime == "application/octet-stream":
        return
    document = _document(client, datapack_id)
    try:
        node = node_at(document, place)
    except EditError:
        return
    if node.get("class") != "data" or (new_link and node.get("link") != new_link):
        return
    if base_mime(TreeNode(place, 0, node).mime) == base_mime(mime):
        return
    client.update_datapack(datapack_id, structure=set_node_mime(document, place, mime))
