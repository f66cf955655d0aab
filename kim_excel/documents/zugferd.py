"""The ZUGFeRD PDF (SPEC § 8): a PDF/A-3 letter with its XRechnung embedded (profile XRECHNUNG).

:func:`embed_in_pdf` is pure (bytes in, bytes out) and knows PDF/A-3 and the Factur-X XMP,
not CII (that is ``xrechnung.py``). It is written with pypdf directly: drafthorse's
``attach_xml`` rewrites the PDF header, drops the letter's XMP (title, author, creation date)
and leaves the document info and the XMP disagreeing (``/Keywords`` without ``pdf:Keywords``,
two clocks for the dates), which PDF/A forbids (ISO 19005-3, 6.6.3).

What a ZUGFeRD 2.x / Factur-X 1.07 PDF of profile XRECHNUNG needs, and where it is done:

- the letter's PDF/A-3 as it is (LibreOffice's export: pages, output intent, ``pdfaid:part``
  3 and conformance B, ``%PDF-1.6`` header) — kept by cloning;
- the XML as embedded file ``xrechnung.xml`` (Factur-X 1.07 § 6.2 for this profile) with MIME
  subtype ``text/xml``, ``/Params /ModDate``, ``/F`` and ``/UF``, ``/AFRelationship
  /Alternative``, listed in the catalog's ``/AF`` (PDF/A-3 6.8) — :func:`_attach`;
- the Factur-X XMP properties (``fx:DocumentFileName``, ``DocumentType``, ``Version``,
  ``ConformanceLevel``) with their PDF/A extension schema description — :func:`zugferd_xmp`.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from lxml import etree

# ZUGFeRD 2.x / Factur-X 1.07 § 6.2: the reference profile XRECHNUNG is embedded as
# "xrechnung.xml" (drafthorse 2025.2 still writes "factur-x.xml"; pretix/python-drafthorse#114).
XRECHNUNG_ATTACHMENT = "xrechnung.xml"
FACTUR_X_URN = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
ZUGFERD_LEVEL = "XRECHNUNG"
ZUGFERD_KEYWORDS = "Factur-X, ZUGFeRD, XRechnung, E-Rechnung"

NS_XMP = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
          "dc": "http://purl.org/dc/elements/1.1/", "pdf": "http://ns.adobe.com/pdf/1.3/",
          "xmp": "http://ns.adobe.com/xap/1.0/", "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
          "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
          "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
          "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#", "fx": FACTUR_X_URN}
PDF_HEADER = "%PDF-1.7"  # PDF/A-3 is based on PDF 1.7 (ISO 32000-1)
XMP_EMPTY = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
             'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>')
# The Factur-X extension schema (Factur-X 1.07 / ZUGFeRD 2.3, annex "XMP"): PDF/A requires
# every property outside the predefined schemas to be described in the XMP itself.
FX_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document in capital letters, e.g. INVOICE"),
    ("Version", "The actual version of the standard applying to the embedded XML document"),
    ("ConformanceLevel", "The conformance level of the embedded XML document"),
)


def embed_in_pdf(pdf_bytes: bytes, xml_bytes: bytes, lang: str = "de-DE",
                 when: datetime | None = None) -> bytes:
    """A ZUGFeRD PDF/A-3 (profile XRECHNUNG): ``pdf_bytes`` with ``xml_bytes`` attached.

    ``pdf_bytes`` should already be PDF/A-3 (LibreOffice's export with ``SelectPdfVersion``
    3). Everything of it is kept (pages, output intent, its XMP with ``pdfaid:part`` 3); added
    are the file ``xrechnung.xml`` (``/AFRelationship /Alternative``, listed in the catalog's
    ``/AF``), the Factur-X XMP (``fx:ConformanceLevel`` XRECHNUNG, with its extension schema)
    and ``/Keywords``. The document info and the XMP say the same (title, author, subject,
    keywords, creator, producer, dates), as PDF/A requires. ``when``: the modification time
    (default: now).
    """
    from pypdf import PdfReader, PdfWriter  # only with --pdf: pypdf costs 0.2 s to import
    from pypdf.generic import ArrayObject, NameObject, create_string_object

    reader = PdfReader(io.BytesIO(pdf_bytes))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = _pdfa_header(reader.pdf_header)
    now = (when or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    pdf_now = f"D:{now:%Y%m%d%H%M%S}Z"

    spec = _attach(writer, xml_bytes, pdf_now)
    root = writer.root_object
    root[NameObject("/AF")] = writer._add_object(ArrayObject([spec]))  # PDF/A-3 6.8
    root[NameObject("/Lang")] = create_string_object(lang)

    info = {k: str(v) for k, v in (reader.metadata or {}).items()}
    info.update({"/Keywords": ZUGFERD_KEYWORDS, "/ModDate": pdf_now})
    info.setdefault("/CreationDate", pdf_now)
    info["/CreationDate"] = _pdf_date(info["/CreationDate"])
    info.setdefault("/Producer", "pypdf")
    writer.metadata = None  # the clone's info dict: replaced as a whole
    writer.add_metadata(info)
    old_xmp = root["/Metadata"].get_object().get_data() if "/Metadata" in root else None
    writer.xmp_metadata = zugferd_xmp(old_xmp, info)
    root["/Metadata"].get_object().pop("/Filter", None)  # PDF/A: the XMP stays unfiltered
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _attach(writer, xml_bytes: bytes, pdf_now: str):
    """``xrechnung.xml`` as embedded file: the file specification PDF/A-3 (6.8) and
    Factur-X ask for (``/F`` and ``/UF``, ``/AFRelationship``, MIME subtype, ``/ModDate``),
    listed in the name tree; returns the reference to the file specification."""
    from pypdf.generic import (  # see embed_in_pdf
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
        create_string_object,
    )

    stream = DecodedStreamObject()
    stream.set_data(xml_bytes)
    stream.update({
        NameObject("/Type"): NameObject("/EmbeddedFile"),
        NameObject("/Subtype"): NameObject("/text/xml"),  # written as /text#2Fxml
        NameObject("/Params"): DictionaryObject({
            NameObject("/ModDate"): create_string_object(pdf_now),
            NameObject("/Size"): NumberObject(len(xml_bytes))}),
    })
    file = writer._add_object(stream)
    name = create_string_object(XRECHNUNG_ATTACHMENT)
    spec = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Filespec"),
        NameObject("/F"): name,
        NameObject("/UF"): name,
        NameObject("/EF"): DictionaryObject({NameObject("/F"): file, NameObject("/UF"): file}),
        NameObject("/Desc"): create_string_object(
            "Rechnungsdaten im Format XRechnung (ZUGFeRD-Profil XRECHNUNG)"),
        NameObject("/AFRelationship"): NameObject("/Alternative"),  # XML = the invoice
    }))
    root = writer.root_object
    names = root.setdefault(NameObject("/Names"), DictionaryObject())
    names = names.get_object()
    names[NameObject("/EmbeddedFiles")] = DictionaryObject(
        {NameObject("/Names"): ArrayObject([name, spec])})
    return spec


def _pdfa_header(header: str) -> str:
    """The input's ``%PDF-1.4`` … ``%PDF-1.7`` (what LibreOffice wrote), else ``%PDF-1.7``."""
    return header if re.fullmatch(r"%PDF-1\.[4-7]", header) else PDF_HEADER


def _pdf_date(value: str) -> str:
    """LibreOffice writes ``D:20261202180228Z'``; PDF wants ``D:20261202180228Z``."""
    return value.rstrip("'") if value.endswith("Z'") else value


def xmp_date(pdf_date: str) -> str:
    """A PDF date as XMP date: ``D:20261202180228Z`` → ``2026-12-02T18:02:28Z``;
    ``D:20261202180228+01'00'`` → ``2026-12-02T18:02:28+01:00``."""
    match = re.fullmatch(r"D:(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(Z|[+-]\d\d'?\d\d'?)?'?",
                         pdf_date)
    if not match:
        raise ValueError(f"not a PDF date: {pdf_date!r}")
    year, month, day, hour, minute, second, zone = match.groups()
    if zone and zone != "Z":
        zone = f"{zone[:3]}:{zone[3:].strip(chr(39))[-2:]}"
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}{zone or ''}"


def zugferd_xmp(old: bytes | None, info: dict[str, str]) -> bytes:
    """The letter's XMP (``old``) with the document info mirrored into it and the Factur-X
    properties and extension schema added. Properties set here replace earlier ones."""
    tree = etree.fromstring(old.strip() if old else XMP_EMPTY.encode(),
                            etree.XMLParser(remove_blank_text=True, resolve_entities=False))
    rdf = tree.find("rdf:RDF", NS_XMP) if tree.tag != _q("rdf", "RDF") else tree
    pdfaid = _description(rdf, "pdfaid")
    _text(pdfaid, "pdfaid", "part", "3")
    if pdfaid.find("pdfaid:conformance", NS_XMP) is None:
        _text(pdfaid, "pdfaid", "conformance", "B")
    _mirror_info(rdf, info)
    _fx_extension_schema(rdf)
    fx = _description(rdf, "fx")
    for name, value in (("DocumentFileName", XRECHNUNG_ATTACHMENT), ("DocumentType", "INVOICE"),
                        ("Version", "1.0"), ("ConformanceLevel", ZUGFERD_LEVEL)):
        _text(fx, "fx", name, value)
    body = etree.tostring(tree, encoding="utf-8")
    return (b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body
            + b'\n<?xpacket end="w"?>')


# document info entry → Dublin Core property and its RDF container (XMP part 1, 8.4)
DUBLIN_CORE = {"/Title": ("title", "Alt"), "/Author": ("creator", "Seq"),
               "/Subject": ("description", "Alt")}


def _mirror_info(rdf, info: dict[str, str]) -> None:
    """PDF/A (ISO 19005-3, 6.6.3): each document info entry equals its XMP property."""
    dc = _description(rdf, "dc")
    for key, (name, kind) in DUBLIN_CORE.items():
        if key in info:
            _container(dc, "dc", name, kind, info[key])
    pdf, xmp = _description(rdf, "pdf"), _description(rdf, "xmp")
    for key, element, name in (("/Keywords", pdf, "pdf:Keywords"),
                               ("/Producer", pdf, "pdf:Producer"),
                               ("/Creator", xmp, "xmp:CreatorTool")):
        if key in info:
            _text(element, *name.split(":"), info[key])
    for key, name in (("/CreationDate", "CreateDate"), ("/ModDate", "ModifyDate")):
        if key in info:
            _text(xmp, "xmp", name, xmp_date(info[key]))
    if "/ModDate" in info:
        _text(xmp, "xmp", "MetadataDate", xmp_date(info["/ModDate"]))


def _fx_extension_schema(rdf) -> None:
    extension = _description(rdf, "pdfaExtension")
    schemas = extension.find("pdfaExtension:schemas", NS_XMP)
    if schemas is None:
        schemas = etree.SubElement(extension, _q("pdfaExtension", "schemas"))
        etree.SubElement(schemas, _q("rdf", "Bag"))
    bag = schemas.find("rdf:Bag", NS_XMP)
    for li in bag.findall("rdf:li", NS_XMP):
        if li.findtext("pdfaSchema:namespaceURI", namespaces=NS_XMP) == FACTUR_X_URN:
            bag.remove(li)
    li = etree.SubElement(bag, _q("rdf", "li"), {_q("rdf", "parseType"): "Resource"},
                          nsmap={p: NS_XMP[p] for p in ("pdfaSchema", "pdfaProperty")})
    etree.SubElement(li, _q("pdfaSchema", "schema")).text = "Factur-X PDFA Extension Schema"
    etree.SubElement(li, _q("pdfaSchema", "namespaceURI")).text = FACTUR_X_URN
    etree.SubElement(li, _q("pdfaSchema", "prefix")).text = "fx"
    seq = etree.SubElement(etree.SubElement(li, _q("pdfaSchema", "property")), _q("rdf", "Seq"))
    for name, description in FX_PROPERTIES:
        prop = etree.SubElement(seq, _q("rdf", "li"), {_q("rdf", "parseType"): "Resource"})
        etree.SubElement(prop, _q("pdfaProperty", "name")).text = name
        etree.SubElement(prop, _q("pdfaProperty", "valueType")).text = "Text"
        etree.SubElement(prop, _q("pdfaProperty", "category")).text = "external"
        etree.SubElement(prop, _q("pdfaProperty", "description")).text = description


def _q(prefix: str, name: str) -> str:
    return f"{{{NS_XMP[prefix]}}}{name}"


def _description(rdf, prefix: str):
    """The ``rdf:Description`` that holds the ``prefix`` properties (made if missing)."""
    for description in rdf.findall("rdf:Description", NS_XMP):
        if any(child.tag.startswith(f"{{{NS_XMP[prefix]}}}") for child in description):
            return description
    return etree.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""},
                            nsmap={prefix: NS_XMP[prefix]})


def _text(parent, prefix: str, name: str, value: str) -> None:
    """Set the simple property ``prefix:name`` of ``parent`` to ``value``."""
    for old in parent.findall(f"{prefix}:{name}", NS_XMP):
        parent.remove(old)
    etree.SubElement(parent, _q(prefix, name)).text = value


def _container(parent, prefix: str, name: str, kind: str, value: str) -> None:
    """Set ``dc:title`` (``rdf:Alt``, x-default) or ``dc:creator`` (``rdf:Seq``) to ``value``."""
    for old in parent.findall(f"{prefix}:{name}", NS_XMP):
        parent.remove(old)
    container = etree.SubElement(etree.SubElement(parent, _q(prefix, name)), _q("rdf", kind))
    item = etree.SubElement(container, _q("rdf", "li"))
    if kind == "Alt":
        item.set("{http://www.w3.org/XML/1998/namespace}lang", "x-default")
    item.text = value
