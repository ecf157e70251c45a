"""WhatsApp export (.txt / .zip) → :class:`~wachat_tui.core.records.Message` records, streaming.

* :mod:`.source` — bytes → text: a .txt or a zip's chat member, encodings, line ends;
* :mod:`.dates` — header dates and times, and the day/month-order decision;
* :mod:`.build` — record building: the careful path and the quick rule for plain lines;
* :mod:`.hotloop` — the loop after the decision, in C (``_hotloop.c``) or Python;
* :mod:`.parser` — the parser, its options and its results;
* :mod:`.formats` — what WhatsApp writes: header patterns, placeholders, notices per language.
"""
from .dates import DATE_ORDERS
from .parser import (MAX_PREAMBLE_LINES, MAX_UNPARSED, ExportInfo, ParsedExport, ParseOptions,
                     iter_messages, parse_export)

__all__ = ["iter_messages", "parse_export", "ExportInfo", "ParsedExport", "ParseOptions",
           "DATE_ORDERS", "MAX_PREAMBLE_LINES", "MAX_UNPARSED"]
