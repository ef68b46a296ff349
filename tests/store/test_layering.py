"""The store knows nothing of the API: it imports neither kiln.protocol nor
kiln.service, and shapes documents only with the function the layer above gives it."""
from __future__ import annotations

import subprocess
import sys

from kiln.store import Row, Store


def test_the_store_and_the_engine_import_no_protocol_or_service_code():
    code = ("import sys, kiln.store, kiln.engine.due, kiln.engine.clock, kiln.engine.timeline; "
            "print(sorted(m for m in sys.modules if m.startswith(('kiln.protocol', 'kiln.service'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_documents_are_written_through_the_shape_given():
    store = Store("sqlite://", shape=lambda type_: (lambda doc: {"kept": doc["kept"]}) if type_ == "shaped" else None)
    for type_ in ("shaped", "plain"):
        store.run(lambda tx: tx.insert(Row(arn=type_, type=type_, name_key="n", name="n",
                                           doc={"kept": 1, "dropped": 2})), "111111111111", "us-east-1")
    texts = {t: store.run(lambda tx: tx.doc_text(t, t), "111111111111", "us-east-1", write=False) for t in ("shaped", "plain")}
    assert texts == {"shaped": '{"kept":1}', "plain": '{"kept":1,"dropped":2}'}
    store.close()
