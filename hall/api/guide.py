"""智能导办 routes of Hall API v1 (issue 20): the search and the 办事指南 of every matter,
public (no token: phones, the hall's website and the citizen page ``/guide/`` read them).

The catalogue and its search index come from the ``guide`` package (built once per
process, about a second, on the first request); the hall's config adds what only it knows:
the service's name here and the counters' names. Included in the app by ``hall/app.py``."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Path, Query

from guide.catalogue import Bundle, Catalogue, Material, Matter, catalogue
from hall import schemas as s
from hall.api.routes import Ctx
from hall.config import HallConfig
from hall.errors import HallError, NotFound

if TYPE_CHECKING:
    from guide.search import SearchIndex

router = APIRouter(prefix="/api/v1", tags=["guide"], responses=s.ERROR_RESPONSES)

MatterCode = Annotated[str, Path(min_length=1, max_length=16)]

_lock = threading.Lock()
_index: SearchIndex | None = None


def search_index() -> SearchIndex:
    """The process's index over the packaged catalogue, built on first use."""
    global _index
    with _lock:
        if _index is None:
            # Imported here with the index: numpy, jieba and bm25s stay out of a hall
            # process until someone searches (the server's RSS under the ticket load).
            from guide.search import SearchIndex

            _index = SearchIndex(catalogue())
        return _index


class BadTags(HallError):
    status = 400
    code = "guide_bad_tags"


def _service_name(config: HallConfig, code: str) -> str | None:
    service = config.service(code)
    return service.name if service else None


def _counters(config: HallConfig, entry: Matter | Bundle) -> list[s.GuideCounter]:
    """The entry's counters that this hall has and that serve its service."""
    out = []
    for cid in entry.counters:
        c = config.counter(cid)
        if c is not None and entry.service in c.services:
            out.append(s.GuideCounter(id=c.id, name=c.name, name_en=c.name_en or None))
    return out


def guide_url(config: HallConfig, code: str) -> str:
    return f"{config.public_url.rstrip('/')}/guide/{code}"


def _material(m: Material) -> s.GuideMaterial:
    return s.GuideMaterial(
        name=m.name,
        name_en=m.name_en,
        form=m.form.value,
        copies=m.copies,
        e_license=m.e_license,
        note=m.note,
        when=list(m.when),
    )


def matter_guide(config: HallConfig, m: Matter, tags: frozenset[str]) -> s.GuideMatter:
    return s.GuideMatter(
        kind="matter",
        code=m.code,
        name=m.name,
        name_en=m.name_en,
        category=m.category,
        service=m.service,
        service_name=_service_name(config, m.service),
        counters=_counters(config, m),
        aliases=list(m.aliases),
        conditions=list(m.conditions),
        materials=[_material(x) for x in m.materials],
        questions=[
            s.GuideQuestion(
                id=q.id,
                text=q.text,
                text_en=q.text_en,
                options=[
                    s.GuideOption(tag=o.tag, text=o.text, text_en=o.text_en) for o in q.options
                ],
            )
            for q in m.question
        ],
        tags=sorted(tags),
        checklist=[_material(x) for x in m.checklist(tags)],
        time_limit_legal_days=m.time_limit.legal,
        time_limit_promised_days=m.time_limit.promised,
        fee=m.fee,
        fee_en=m.fee_en,
        visits=m.visits,
        online=m.online,
        online_note=m.online_note,
        basis=list(m.basis),
        faq=[s.GuideFaq(q=f.q, a=f.a) for f in m.faq],
        url=guide_url(config, m.code),
    )


def bundle_guide(config: HallConfig, cat: Catalogue, b: Bundle) -> s.GuideBundle:
    return s.GuideBundle(
        kind="bundle",
        code=b.code,
        name=b.name,
        name_en=b.name_en,
        service=b.service,
        service_name=_service_name(config, b.service),
        counters=_counters(config, b),
        note=b.note,
        matters=[
            s.GuideBundleMember(
                code=m.code,
                name=m.name,
                name_en=m.name_en,
                time_limit_promised_days=m.time_limit.promised,
            )
            for m in cat.members(b)
        ],
        checklist=[_material(x) for x in cat.merged_checklist(b)],
        url=guide_url(config, b.code),
    )


def _tags(m: Matter, raw: str) -> frozenset[str]:
    tags = frozenset(t for t in raw.split(",") if t)
    offered = {o.tag for q in m.question for o in q.options}
    unknown = sorted(tags - offered)
    if unknown:
        raise BadTags(f"{m.code} offers no situation {unknown}; it offers {sorted(offered)}")
    for q in m.question:
        chosen = [o.tag for o in q.options if o.tag in tags]
        if len(chosen) > 1:
            raise BadTags(f"question {q.id!r} has one answer, not {chosen}")
    return tags


@router.get(
    "/guide",
    summary="智能导办: rank the matters for the citizen's words (public, no token)",
    response_model=s.GuideAnswer,
)
def guide_search(
    ctx: Ctx,
    q: Annotated[str, Query(max_length=100, description="free text, pinyin or initials")] = "",
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> s.GuideAnswer:
    answer = search_index().search(q, limit)
    config = ctx.config
    cat = catalogue()
    results = []
    for h in answer.hits:
        entry = cat.get(h.code)
        assert entry is not None
        results.append(
            s.GuideHit(
                code=h.code,
                name=h.name,
                name_en=h.name_en,
                kind=h.kind,
                service=h.service,
                service_name=_service_name(config, h.service),
                counters=[c.id for c in _counters(config, entry)],
                score=h.score,
            )
        )
    where = answer.elsewhere
    return s.GuideAnswer(
        query=q,
        results=results,
        elsewhere=s.GuideElsewhere(where=where.where, where_en=where.where_en) if where else None,
    )


@router.get(
    "/matters",
    summary="The catalogue of matters and bundles (public, no token)",
    response_model=list[s.GuideEntry],
)
def matters(ctx: Ctx) -> list[s.GuideEntry]:
    config = ctx.config
    popular = set(catalogue().popular)
    return [
        s.GuideEntry(
            code=e.code,
            name=e.name,
            name_en=e.name_en,
            kind=e.kind,
            category=e.category if isinstance(e, Matter) else "一件事一次办",
            service=e.service,
            service_name=_service_name(config, e.service),
            popular=e.code in popular,
        )
        for e in catalogue().entries()
    ]


@router.get(
    "/matters/{code}",
    summary="The full 办事指南 of a matter or bundle; ?tags= picks a situation's checklist",
    response_model=s.GuideMatter | s.GuideBundle,
)
def matter(
    ctx: Ctx,
    code: MatterCode,
    tags: Annotated[str, Query(max_length=200, description="situation tags, comma-separated")] = "",
) -> s.GuideMatter | s.GuideBundle:
    cat = catalogue()
    entry = cat.get(code)
    if entry is None:
        raise NotFound(f"no matter {code!r} in the catalogue", code="guide_matter_not_found")
    if isinstance(entry, Bundle):
        if tags:
            raise BadTags("a bundle has no situation questions")
        return bundle_guide(ctx.config, cat, entry)
    return matter_guide(ctx.config, entry, _tags(entry, tags))
