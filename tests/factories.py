"""Factories over the real models; trees are built through the services so paths stay right."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from branches import services
from branches.models import Member, MemberCategory, OrgKind, OrgUnit, User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="zh_CN")
    password = factory.PostGenerationMethodCall("set_password", "test-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


_org_seq = iter(range(1, 10**9))


def make_org(
    kind: str, parent: OrgUnit | None, *, code: str | None = None, name: str | None = None, **fields: object
) -> OrgUnit:
    n = next(_org_seq)
    return services.org_unit_create(
        code=code or f"T{n:05d}",
        name=name or f"{OrgKind(kind).label}{n}",
        kind=kind,
        parent=parent,
        **fields,  # type: ignore[arg-type]
    )


class MemberFactory(DjangoModelFactory):
    class Meta:
        model = Member

    name = factory.Faker("name", locale="zh_CN")
    category = MemberCategory.FULL
