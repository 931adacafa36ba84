"""Row objects and every check of the organisation import, ending in a write plan.

All errors are collected, not only the first, so the administrator can correct the
whole file in one pass; nothing is written here, the plan goes to `writing`.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models.functions import Lower

from branches.imports.messages import (
    CATEGORY_BY_LABEL,
    COL_AGENCY,
    COL_CODE,
    COL_ESTABLISHED,
    COL_KIND,
    COL_MEMBER_ACCOUNT,
    COL_MEMBER_CATEGORY,
    COL_MEMBER_JOINED,
    COL_MEMBER_NAME,
    COL_MEMBER_ORG,
    COL_NAME,
    COL_PARENT,
    COL_PHONE,
    COL_SECRETARY_ACCOUNT,
    COL_SECRETARY_NAME,
    COL_SORT,
    COL_STATUS,
    COL_TERM_ENDS,
    ERR_ACCOUNT,
    ERR_ACCOUNT_NAME_IN_DB,
    ERR_ACCOUNT_NAME_IN_FILE,
    ERR_CATEGORY,
    ERR_COMMITTEE_HAS_PARENT,
    ERR_COMMITTEE_KIND_CHANGE,
    ERR_CYCLE,
    ERR_DATE,
    ERR_DUPLICATE_CODE,
    ERR_KIND,
    ERR_KIND_BREAKS_CHILD,
    ERR_MEMBER_ACCOUNT_DUPLICATE,
    ERR_MEMBER_AMBIGUOUS,
    ERR_MEMBER_DUPLICATE,
    ERR_MEMBER_ORG_UNKNOWN,
    ERR_MEMBER_SAME_AS_ROW,
    ERR_NO_COMMITTEE,
    ERR_PARENT_REQUIRED,
    ERR_PARENT_SELF,
    ERR_PARENT_UNKNOWN,
    ERR_REQUIRED,
    ERR_SECOND_COMMITTEE_DB,
    ERR_SECOND_COMMITTEE_FILE,
    ERR_SECRETARY_NAME_REQUIRED,
    ERR_SORT,
    ERR_STATUS,
    ERR_TERM_BEFORE_ESTABLISHED,
    ERR_TOO_LONG,
    KIND_BY_LABEL,
    MAX_AGENCY,
    MAX_CODE,
    MAX_NAME,
    MAX_PERSON_NAME,
    MAX_PHONE,
    SHEET_MEMBERS,
    SHEET_ORGS,
    STATUS_ACTIVE,
    STATUS_REVOKED,
    SUM_GRANTS_NEW,
    SUM_MEMBERS_NEW,
    SUM_MEMBERS_UNCHANGED,
    SUM_MEMBERS_UPDATED,
    SUM_ORGS_MOVED,
    SUM_ORGS_NEW,
    SUM_ORGS_UNCHANGED,
    SUM_ORGS_UPDATED,
    SUM_USERS_NEW,
    _Errors,
)
from branches.imports.reading import _integer, _Sheet, cell_date, cell_text
from branches.models import ALLOWED_PARENT_KINDS, Member, OrgKind, OrgUnit, Role, RoleGrant, User
from branches.services import ERR_PARENT_KIND

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
# Keeps IN lists under SQLite's variable limit whatever it was compiled with.
_IN_CHUNK = 10_000

# --- 4. validation ----------------------------------------------------------------------------


@dataclass
class _OrgRow:
    row: int
    code: str
    name: str
    kind: str | None  # OrgKind value; None when missing or invalid
    parent_code: str
    agency_name: str = ""
    secretary_name: str = ""
    secretary_account: str = ""
    phone: str = ""
    established_on: date | None = None
    term_ends_on: date | None = None
    sort_order: int = 0
    is_active: bool = True

    def values(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "agency_name": self.agency_name,
            "phone": self.phone,
            "established_on": self.established_on,
            "term_ends_on": self.term_ends_on,
            "sort_order": self.sort_order,
            "is_active": self.is_active,
        }


# Which column feeds which OrgUnit field: a field is compared only when its column is in the file.
_FIELD_COLUMNS: dict[str, str] = {
    "name": COL_NAME,
    "kind": COL_KIND,
    "agency_name": COL_AGENCY,
    "phone": COL_PHONE,
    "established_on": COL_ESTABLISHED,
    "term_ends_on": COL_TERM_ENDS,
    "sort_order": COL_SORT,
    "is_active": COL_STATUS,
}


@dataclass
class _MemberRow:
    row: int
    name: str
    org_code: str
    category: str | None
    joined_on: date | None
    account: str
    target: Member | None = None  # the existing roster entry this row updates


@dataclass
class _Person:
    """An account named in the file, with where it was first seen (for conflict messages)."""

    account: str
    name: str
    sheet: str
    row: int


@dataclass
class _Plan:
    new_orgs: list[tuple[int, OrgUnit, str]] = field(default_factory=list)  # (depth, org, parent code)
    updated_orgs: list[OrgUnit] = field(default_factory=list)
    update_fields: set[str] = field(default_factory=set)
    moves: list[tuple[int, OrgUnit, str]] = field(default_factory=list)  # (depth, org, new parent code)
    unchanged_orgs: int = 0
    orgs: dict[str, OrgUnit] = field(default_factory=dict)  # every organisation involved, by code
    users: dict[str, User] = field(default_factory=dict)  # lower-case account → user (existing or new)
    new_users: list[User] = field(default_factory=list)
    grants: list[tuple[str, str]] = field(default_factory=list)  # (account key, org code)
    # (member, org code, account key); the organisation and user may not exist yet when planned.
    new_members: list[tuple[Member, str, str]] = field(default_factory=list)
    updated_members: list[tuple[Member, str, str]] = field(default_factory=list)
    unchanged_members: int = 0

    def summary(self) -> dict[str, int]:
        return {
            SUM_ORGS_NEW: len(self.new_orgs),
            SUM_ORGS_UPDATED: len(self.updated_orgs),
            SUM_ORGS_MOVED: len(self.moves),
            SUM_ORGS_UNCHANGED: self.unchanged_orgs,
            SUM_MEMBERS_NEW: len(self.new_members),
            SUM_MEMBERS_UPDATED: len(self.updated_members),
            SUM_MEMBERS_UNCHANGED: self.unchanged_members,
            SUM_USERS_NEW: len(self.new_users),
            SUM_GRANTS_NEW: len(self.grants),
        }


def _unusable_password() -> str:
    """What make_password(None) stores (can never match), minus its slow per-character RNG calls.

    New accounts cannot log in until an administrator resets the password (user_reset_password).
    """
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


class _Validator:
    """Checks both sheets against each other and the database, then builds the write plan.

    The database is read in a fixed number of queries (organisations by code, their
    ancestors, the 工委, accounts, roster entries, existing grants), so the cost does
    not depend on how many rows the file has.
    """

    def __init__(self, org_sheet: _Sheet | None, member_sheet: _Sheet | None, errors: _Errors) -> None:
        self.org_sheet = org_sheet
        self.member_sheet = member_sheet
        self.errors = errors
        self.org_rows: dict[str, _OrgRow] = {}  # first row of each code
        self.member_rows: list[_MemberRow] = []
        self.existing: dict[str, OrgUnit] = {}
        self.by_id: dict[int, OrgUnit] = {}
        self.committee: OrgUnit | None = None
        self.people: dict[str, _Person] = {}
        self.users: dict[str, User] = {}

    # -- rows

    def _check_length(self, sheet: str, row: int, column: str, value: str, limit: int) -> None:
        if len(value) > limit:
            self.errors.add(sheet, row, column, ERR_TOO_LONG.format(limit=limit))

    def _parse_date(self, sheet: str, row: int, column: str, value: object) -> date | None:
        try:
            return cell_date(value)
        except ValueError:
            self.errors.add(sheet, row, column, ERR_DATE)
            return None

    def _check_account(self, sheet: str, row: int, column: str, account: str, name: str) -> None:
        if not ACCOUNT_RE.fullmatch(account):
            self.errors.add(sheet, row, column, ERR_ACCOUNT.format(account=account))
            return
        if not name:
            return
        key = account.lower()
        seen = self.people.get(key)
        if seen is None:
            self.people[key] = _Person(account=account, name=name, sheet=sheet, row=row)
        elif seen.name != name:
            self.errors.add(
                sheet,
                row,
                column,
                ERR_ACCOUNT_NAME_IN_FILE.format(
                    account=account, sheet=seen.sheet, row=seen.row, other=seen.name, name=name
                ),
            )

    def parse_org_rows(self) -> None:
        if self.org_sheet is None:
            return
        first_committee: int | None = None
        for row, cells in self.org_sheet.rows:
            parsed = self._parse_org_row(row, cells)
            if parsed.kind == OrgKind.COMMITTEE:
                if first_committee is None:
                    first_committee = row
                else:
                    self.errors.add(
                        SHEET_ORGS, row, COL_KIND, ERR_SECOND_COMMITTEE_FILE.format(row=first_committee)
                    )
            if not parsed.code:
                continue
            first = self.org_rows.get(parsed.code)
            if first is not None:
                self.errors.add(
                    SHEET_ORGS, row, COL_CODE, ERR_DUPLICATE_CODE.format(code=parsed.code, row=first.row)
                )
            else:
                self.org_rows[parsed.code] = parsed

    def _parse_org_row(self, row: int, cells: dict[str, object]) -> _OrgRow:
        add = self.errors.add
        code, name = cell_text(cells[COL_CODE]), cell_text(cells[COL_NAME])
        kind_label, parent_code = cell_text(cells[COL_KIND]), cell_text(cells[COL_PARENT])
        for column, value in ((COL_CODE, code), (COL_NAME, name), (COL_KIND, kind_label)):
            if not value:
                add(SHEET_ORGS, row, column, ERR_REQUIRED)
        self._check_length(SHEET_ORGS, row, COL_CODE, code, MAX_CODE)
        self._check_length(SHEET_ORGS, row, COL_NAME, name, MAX_NAME)
        kind = KIND_BY_LABEL.get(kind_label)
        if kind_label and kind is None:
            add(SHEET_ORGS, row, COL_KIND, ERR_KIND)
        if kind == OrgKind.COMMITTEE and parent_code:
            add(SHEET_ORGS, row, COL_PARENT, ERR_COMMITTEE_HAS_PARENT)
        elif kind is not None and kind != OrgKind.COMMITTEE and not parent_code:
            add(SHEET_ORGS, row, COL_PARENT, ERR_PARENT_REQUIRED)
        parsed = _OrgRow(row=row, code=code, name=name, kind=kind, parent_code=parent_code)

        parsed.agency_name = cell_text(cells.get(COL_AGENCY))
        self._check_length(SHEET_ORGS, row, COL_AGENCY, parsed.agency_name, MAX_AGENCY)
        parsed.phone = cell_text(cells.get(COL_PHONE))
        self._check_length(SHEET_ORGS, row, COL_PHONE, parsed.phone, MAX_PHONE)
        parsed.established_on = self._parse_date(SHEET_ORGS, row, COL_ESTABLISHED, cells.get(COL_ESTABLISHED))
        parsed.term_ends_on = self._parse_date(SHEET_ORGS, row, COL_TERM_ENDS, cells.get(COL_TERM_ENDS))
        if parsed.established_on and parsed.term_ends_on and parsed.term_ends_on < parsed.established_on:
            add(SHEET_ORGS, row, COL_TERM_ENDS, ERR_TERM_BEFORE_ESTABLISHED)
        try:
            parsed.sort_order = _integer(cells.get(COL_SORT))
        except ValueError:
            add(SHEET_ORGS, row, COL_SORT, ERR_SORT)
        status = cell_text(cells.get(COL_STATUS))
        if status not in ("", STATUS_ACTIVE, STATUS_REVOKED):
            add(SHEET_ORGS, row, COL_STATUS, ERR_STATUS)
        parsed.is_active = status != STATUS_REVOKED

        parsed.secretary_name = cell_text(cells.get(COL_SECRETARY_NAME))
        self._check_length(SHEET_ORGS, row, COL_SECRETARY_NAME, parsed.secretary_name, MAX_PERSON_NAME)
        parsed.secretary_account = cell_text(cells.get(COL_SECRETARY_ACCOUNT))
        if parsed.secretary_account:
            if not parsed.secretary_name:
                add(SHEET_ORGS, row, COL_SECRETARY_NAME, ERR_SECRETARY_NAME_REQUIRED)
            self._check_account(
                SHEET_ORGS, row, COL_SECRETARY_ACCOUNT, parsed.secretary_account, parsed.secretary_name
            )
        return parsed

    def parse_member_rows(self) -> None:
        if self.member_sheet is None:
            return
        add = self.errors.add
        for row, cells in self.member_sheet.rows:
            name, org_code = cell_text(cells[COL_MEMBER_NAME]), cell_text(cells[COL_MEMBER_ORG])
            category_label = cell_text(cells[COL_MEMBER_CATEGORY])
            for column, value in (
                (COL_MEMBER_NAME, name),
                (COL_MEMBER_ORG, org_code),
                (COL_MEMBER_CATEGORY, category_label),
            ):
                if not value:
                    add(SHEET_MEMBERS, row, column, ERR_REQUIRED)
            self._check_length(SHEET_MEMBERS, row, COL_MEMBER_NAME, name, MAX_PERSON_NAME)
            category = CATEGORY_BY_LABEL.get(category_label)
            if category_label and category is None:
                add(SHEET_MEMBERS, row, COL_MEMBER_CATEGORY, ERR_CATEGORY)
            joined_on = self._parse_date(SHEET_MEMBERS, row, COL_MEMBER_JOINED, cells.get(COL_MEMBER_JOINED))
            account = cell_text(cells.get(COL_MEMBER_ACCOUNT))
            if account:
                self._check_account(SHEET_MEMBERS, row, COL_MEMBER_ACCOUNT, account, name)
            self.member_rows.append(
                _MemberRow(
                    row=row,
                    name=name,
                    org_code=org_code,
                    category=category,
                    joined_on=joined_on,
                    account=account,
                )
            )

    # -- the database

    def load_organisations(self) -> None:
        codes = set(self.org_rows)
        codes |= {r.parent_code for r in self.org_rows.values() if r.parent_code}
        codes |= {m.org_code for m in self.member_rows if m.org_code}
        for chunk in _chunks(codes):
            for org in OrgUnit.objects.filter(code__in=chunk):
                self.existing[org.code] = org
                self.by_id[org.pk] = org
        # Ancestors make cycle checks possible without loading the whole tree: a move is
        # a cycle exactly when the new parent's chain of ancestors reaches the moved row.
        missing = {a for org in self.existing.values() for a in org.ancestor_ids} - set(self.by_id)
        for chunk in _chunks(missing):
            for org in OrgUnit.objects.filter(pk__in=chunk):
                self.existing[org.code] = org
                self.by_id[org.pk] = org
        self.committee = OrgUnit.objects.filter(kind=OrgKind.COMMITTEE).order_by("pk").first()

    def _kind_of(self, code: str) -> str | None:
        row = self.org_rows.get(code)
        if row is not None:
            return row.kind
        org = self.existing.get(code)
        return org.kind if org is not None else None

    def _parent_of(self, code: str) -> str | None:
        """The parent code `code` will have after the import (None for the root or unknown)."""
        row = self.org_rows.get(code)
        if row is not None:
            # A 工委 row with a parent is reported on its own; the 工委 stays the root.
            return None if row.kind == OrgKind.COMMITTEE else row.parent_code or None
        org = self.existing.get(code)
        if org is None or org.parent_id is None:
            return None
        parent = self.by_id.get(org.parent_id)
        return parent.code if parent is not None else None

    def _known(self, code: str) -> bool:
        return code in self.org_rows or code in self.existing

    def check_tree(self) -> None:
        add = self.errors.add
        committee = self.committee
        file_committee = next((r for r in self.org_rows.values() if r.kind == OrgKind.COMMITTEE), None)
        if committee is not None:
            if file_committee is not None and file_committee.code != committee.code:
                add(
                    SHEET_ORGS,
                    file_committee.row,
                    COL_KIND,
                    ERR_SECOND_COMMITTEE_DB.format(name=committee.name, code=committee.code),
                )
            row = self.org_rows.get(committee.code)
            if row is not None and row.kind is not None and row.kind != OrgKind.COMMITTEE:
                add(SHEET_ORGS, row.row, COL_KIND, ERR_COMMITTEE_KIND_CHANGE.format(name=committee.name))
        elif file_committee is None and self.org_rows:
            add(SHEET_ORGS, None, COL_KIND, ERR_NO_COMMITTEE)

        for row in self.org_rows.values():
            if row.kind is None or row.kind == OrgKind.COMMITTEE or not row.parent_code:
                continue
            if row.parent_code == row.code:
                add(SHEET_ORGS, row.row, COL_PARENT, ERR_PARENT_SELF)
            elif not self._known(row.parent_code):
                add(SHEET_ORGS, row.row, COL_PARENT, ERR_PARENT_UNKNOWN.format(code=row.parent_code))
            else:
                parent_kind = self._kind_of(row.parent_code)
                if parent_kind is not None and parent_kind not in ALLOWED_PARENT_KINDS[row.kind]:
                    add(
                        SHEET_ORGS,
                        row.row,
                        COL_PARENT,
                        ERR_PARENT_KIND.format(
                            kind=OrgKind(row.kind).label, parent=OrgKind(parent_kind).label
                        ),
                    )
        self._check_cycles()
        self._check_kind_changes()

    def _check_cycles(self) -> None:
        """Follow every row's resulting chain of parents, through file and database rows alike."""
        done: set[str] = set()
        for start in self.org_rows:
            chain: list[str] = []
            position: dict[str, int] = {}
            code: str | None = start
            while code is not None and code not in done:
                if code in position:
                    cycle = chain[position[code] :]
                    text = " → ".join([*cycle, cycle[0]])
                    for member in cycle:
                        row = self.org_rows.get(member)
                        if row is not None:
                            self.errors.add(SHEET_ORGS, row.row, COL_PARENT, ERR_CYCLE.format(chain=text))
                    break
                position[code] = len(chain)
                chain.append(code)
                parent = self._parent_of(code)
                # A self-parent is reported on its own; unknown parents end the chain.
                code = parent if parent is not None and parent != code and self._known(parent) else None
            done.update(chain)

    def _check_kind_changes(self) -> None:
        """A changed kind must still suit the existing children that stay under the organisation."""
        changed = {
            org.pk: row
            for code, row in self.org_rows.items()
            if (org := self.existing.get(code)) is not None and row.kind is not None and row.kind != org.kind
        }
        if not changed:
            return
        reported: set[int] = set()
        for chunk in _chunks(changed):
            for child in OrgUnit.objects.filter(parent_id__in=chunk).order_by("path"):
                row = changed[child.parent_id]  # type: ignore[index]
                child_row = self.org_rows.get(child.code)
                if row.row in reported or (child_row is not None and child_row.parent_code != row.code):
                    continue  # already reported, or the child moves away in this same file
                child_kind = (child_row.kind if child_row is not None else None) or child.kind
                if row.kind not in ALLOWED_PARENT_KINDS[child_kind]:
                    reported.add(row.row)
                    self.errors.add(
                        SHEET_ORGS,
                        row.row,
                        COL_KIND,
                        ERR_KIND_BREAKS_CHILD.format(
                            kind=OrgKind(cast(str, row.kind)).label,
                            child=child.name,
                            child_kind=OrgKind(child_kind).label,
                        ),
                    )

    def check_accounts(self) -> None:
        keys = list(self.people)
        for chunk in _chunks(keys):
            # Case-insensitive like services.user_create, which refuses "Zhang" next to "zhang".
            for found in User.objects.annotate(username_lower=Lower("username")).filter(
                username_lower__in=chunk
            ):
                self.users[found.username.lower()] = found
        for key, user in self.users.items():
            person = self.people[key]
            if user.full_name and user.full_name != person.name:
                column = COL_SECRETARY_ACCOUNT if person.sheet == SHEET_ORGS else COL_MEMBER_ACCOUNT
                self.errors.add(
                    person.sheet,
                    person.row,
                    column,
                    ERR_ACCOUNT_NAME_IN_DB.format(
                        account=person.account, other=user.full_name, name=person.name
                    ),
                )

    def check_members(self) -> None:
        if not self.member_rows:
            return
        add = self.errors.add
        org_ids = {self.existing[m.org_code].pk for m in self.member_rows if m.org_code in self.existing}
        user_ids = {u.pk for u in self.users.values()}
        by_user: dict[int, Member] = {}
        by_org_name: dict[tuple[int, str], list[Member]] = defaultdict(list)
        for chunk in _chunks(org_ids):
            for member in Member.objects.filter(org_id__in=chunk).order_by("pk"):
                by_org_name[(member.org_id, member.name)].append(member)
                if member.user_id is not None:
                    by_user[member.user_id] = member
        missing_users = user_ids - set(by_user)
        for chunk in _chunks(missing_users):
            for member in Member.objects.filter(user_id__in=chunk):
                by_user[member.user_id] = member  # type: ignore[index]

        by_account: dict[str, int] = {}
        by_name: dict[tuple[str, str], int] = {}
        claimed: dict[int, int] = {}  # member pk → file row
        for m in self.member_rows:
            if m.org_code and not self._known(m.org_code):
                add(SHEET_MEMBERS, m.row, COL_MEMBER_ORG, ERR_MEMBER_ORG_UNKNOWN.format(code=m.org_code))
            key = m.account.lower()
            if key:
                if key in by_account:
                    add(
                        SHEET_MEMBERS,
                        m.row,
                        COL_MEMBER_ACCOUNT,
                        ERR_MEMBER_ACCOUNT_DUPLICATE.format(account=m.account, row=by_account[key]),
                    )
                    continue
                by_account[key] = m.row
            elif m.org_code and m.name:
                if (m.org_code, m.name) in by_name:
                    add(
                        SHEET_MEMBERS,
                        m.row,
                        COL_MEMBER_NAME,
                        ERR_MEMBER_DUPLICATE.format(row=by_name[(m.org_code, m.name)]),
                    )
                    continue
                by_name[(m.org_code, m.name)] = m.row
            m.target = self._match_member(m, by_user, by_org_name)
            if m.target is not None:
                if m.target.pk in claimed:
                    add(
                        SHEET_MEMBERS,
                        m.row,
                        COL_MEMBER_NAME,
                        ERR_MEMBER_SAME_AS_ROW.format(row=claimed[m.target.pk], name=m.target.name),
                    )
                claimed[m.target.pk] = m.row

    def _match_member(
        self, m: _MemberRow, by_user: dict[int, Member], by_org_name: dict[tuple[int, str], list[Member]]
    ) -> Member | None:
        """The roster entry a row updates: by account if given, else by (organisation, name)."""
        org = self.existing.get(m.org_code)
        if m.account:
            user = self.users.get(m.account.lower())
            if user is not None and user.pk in by_user:
                return by_user[user.pk]
            # An account added for someone already on the roster links that entry
            # instead of creating a duplicate person.
            if org is not None:
                unlinked = [x for x in by_org_name.get((org.pk, m.name), []) if x.user_id is None]
                if len(unlinked) == 1:
                    return unlinked[0]
            return None
        if org is None:
            return None
        candidates = by_org_name.get((org.pk, m.name), [])
        if len(candidates) > 1:
            self.errors.add(
                SHEET_MEMBERS,
                m.row,
                COL_MEMBER_NAME,
                ERR_MEMBER_AMBIGUOUS.format(code=m.org_code, name=m.name),
            )
            return None
        return candidates[0] if candidates else None

    # -- the plan

    def _depths(self) -> dict[str, int]:
        """Depth of every file row in the resulting tree (called only once the tree is valid)."""
        depths: dict[str, int] = {}
        for start in self.org_rows:
            chain: list[str] = []
            code: str | None = start
            while code is not None and code not in depths:
                chain.append(code)
                code = self._parent_of(code)
            depth = -1 if code is None else depths[code]
            for item in reversed(chain):
                depth += 1
                depths[item] = depth
        return depths

    def plan(self) -> _Plan:
        plan = _Plan(orgs=dict(self.existing), users=dict(self.users))
        columns = self.org_sheet.columns if self.org_sheet is not None else set()
        compared = [f for f, column in _FIELD_COLUMNS.items() if column in columns]
        depths = self._depths()
        for code, row in self.org_rows.items():
            org = self.existing.get(code)
            if org is None:
                org = OrgUnit(code=code, **row.values())
                plan.new_orgs.append((depths[code], org, row.parent_code))
                plan.orgs[code] = org
                continue
            values = row.values()
            changed = [f for f in compared if getattr(org, f) != values[f]]
            current_parent = self.by_id[org.parent_id].code if org.parent_id else ""
            moved = row.parent_code != current_parent
            for name in changed:
                setattr(org, name, values[name])
            plan.update_fields.update(changed)
            if moved:
                plan.moves.append((depths[code], org, row.parent_code))
            if changed or moved:
                plan.updated_orgs.append(org)
            else:
                plan.unchanged_orgs += 1
        self._plan_people(plan)
        self._plan_members(plan)
        return plan

    def _plan_people(self, plan: _Plan) -> None:
        for key, person in self.people.items():
            if key not in plan.users:
                user = User(username=person.account, full_name=person.name, password=_unusable_password())
                plan.users[key] = user
                plan.new_users.append(user)
        wanted = {
            (row.secretary_account.lower(), code)
            for code, row in self.org_rows.items()
            if row.secretary_account
        }
        existing_pairs: set[tuple[int, int]] = set()
        user_ids = {plan.users[key].pk for key, _ in wanted if plan.users[key].pk is not None}
        org_ids = {plan.orgs[code].pk for _, code in wanted if plan.orgs[code].pk is not None}
        if user_ids and org_ids:
            for chunk in _chunks(user_ids):
                existing_pairs.update(
                    RoleGrant.objects.filter(
                        role=Role.SECRETARY, user_id__in=chunk, org_id__in=org_ids
                    ).values_list("user_id", "org_id")
                )
        plan.grants = sorted(
            (key, code)
            for key, code in wanted
            if (plan.users[key].pk, plan.orgs[code].pk) not in existing_pairs
        )

    def _plan_members(self, plan: _Plan) -> None:
        columns = self.member_sheet.columns if self.member_sheet is not None else set()
        compare_joined = COL_MEMBER_JOINED in columns
        for m in self.member_rows:
            key = m.account.lower()
            org = plan.orgs[m.org_code]
            if m.target is None:
                # Rows reach planning only after validation, so the category is known.
                member = Member(name=m.name, category=cast(str, m.category), joined_on=m.joined_on)
                plan.new_members.append((member, m.org_code, key))
                continue
            member = m.target
            user = plan.users[key] if key else None
            # A user created by this import has no pk yet, so linking it is always a change.
            relink = user is not None and (user.pk is None or member.user_id != user.pk)
            changed = (
                relink
                or member.org_id != org.pk
                or member.category != m.category
                or (compare_joined and member.joined_on != m.joined_on)
            )
            if not changed:
                plan.unchanged_members += 1
                continue
            member.category = m.category  # type: ignore[assignment]
            if compare_joined:
                member.joined_on = m.joined_on
            plan.updated_members.append((member, m.org_code, key))
