/*
 * The datapack page's node editor: the datatype suggested beside a data node's picker, refined with
 * the channels of its stored file (its first bytes, read when the editor is opened).
 */
import { headOfUrl, offerSuggestions } from "./datatype-picker.js";

offerSuggestions(document, (slot) => (slot.hasAttribute("data-src") ? headOfUrl(slot.getAttribute("data-src")) : null));
