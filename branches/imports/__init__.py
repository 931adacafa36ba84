"""Organisation import from Excel (domain.md §12, R9).

One call of `org_tree_import_file` runs the whole pipeline:

1. check the package before any XML is parsed (R9: extension, size, zip
   structure, macros, external links, zip bombs, DTDs) — `package`;
2. read the sheets `组织` and `党员` with openpyxl in read-only mode — `reading`;
3. validate every row against the file and the database, collecting *all*
   errors with sheet, Excel row, column header and a Chinese reason — `validation`;
4. only with zero errors, and unless it is a dry run, write everything in one
   transaction with a handful of bulk queries (no per-row queries) — `writing`.

Whatever happens, the call leaves one `OrgImport` row and one audit event, so
an administrator can always see and download what went wrong. Column names and
every Chinese text live in `messages`; the template and the error-list workbooks
handed out are built in `workbooks`.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from io import BytesIO
from typing import Any

import openpyxl
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from branches.audit import audit_record
from branches.imports.messages import (
    ERR_NO_DATA,
    ERR_NO_ORG_SHEET,
    ERR_PARENT_SELF,
    ERR_TOO_LARGE,
    ERR_UNREADABLE,
    ERR_WRITE_CONFLICT,
    MEMBER_COLUMNS,
    ORG_COLUMNS,
    SHEET_FILE,
    SHEET_MEMBERS,
    SHEET_ORGS,
    SUM_ERRORS,
    SUM_MEMBER_ROWS,
    SUM_ORG_ROWS,
    RowError,
    _Errors,
    file_error,
    human_size,
)
from branches.imports.package import MAX_ZIP_MEMBERS, package_errors
from branches.imports.reading import find_sheet, read_sheet
from branches.imports.validation import _Validator
from branches.imports.workbooks import errors_workbook, template_workbook
from branches.imports.writing import _apply
from branches.models import AuditAction, ImportStatus, OrgImport, User

# Used by views, the import_org_tree command and the tests.
__all__ = [
    "ERR_NO_DATA",
    "ERR_PARENT_SELF",
    "MAX_ZIP_MEMBERS",
    "SUM_ERRORS",
    "RowError",
    "error_line",
    "errors_workbook",
    "org_tree_import_file",
    "org_tree_import_upload",
    "template_workbook",
]

logger = logging.getLogger(__name__)

# --- public API --------------------------------------------------------------------------------------


def _check_workbook(data: bytes) -> tuple[_Errors, _Validator | None, dict[str, int]]:
    """Read and validate an already vetted package. Returns errors, the validator and row counts."""
    errors = _Errors()
    try:
        workbook = openpyxl.load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl reports malformed parts with whatever exception its parser raised.
        logger.warning("organisation import: workbook could not be opened", exc_info=True)
        errors.items = file_error(ERR_UNREADABLE)
        return errors, None, {}
    try:
        org_ws = find_sheet(workbook, SHEET_ORGS)
        member_ws = find_sheet(workbook, SHEET_MEMBERS)
        org_sheet = member_sheet = None
        if org_ws is None:
            errors.add(SHEET_ORGS, None, "", ERR_NO_ORG_SHEET)
        else:
            org_sheet = read_sheet(org_ws, sheet=SHEET_ORGS, columns=ORG_COLUMNS, errors=errors)
        if member_ws is not None:
            member_sheet = read_sheet(
                member_ws, sheet=SHEET_MEMBERS, columns=MEMBER_COLUMNS, errors=errors, optional=True
            )
    except Exception:
        logger.warning("organisation import: workbook could not be read", exc_info=True)
        errors.items = file_error(ERR_UNREADABLE)
        return errors, None, {}
    finally:
        workbook.close()

    counts = {
        SUM_ORG_ROWS: len(org_sheet.rows) if org_sheet else 0,
        SUM_MEMBER_ROWS: len(member_sheet.rows) if member_sheet else 0,
    }
    if errors:
        return errors, None, counts
    if not counts[SUM_ORG_ROWS] and not counts[SUM_MEMBER_ROWS]:
        errors.add(SHEET_FILE, None, "", ERR_NO_DATA)
        return errors, None, counts

    validator = _Validator(org_sheet, member_sheet, errors)
    validator.parse_org_rows()
    validator.parse_member_rows()
    validator.load_organisations()
    validator.check_tree()
    validator.check_accounts()
    validator.check_members()
    return errors, validator, counts


def org_tree_import_file(
    *, data: bytes, file_name: str, actor: User | None, dry_run: bool, request: HttpRequest | None = None
) -> OrgImport:
    """Validate a whole organisation workbook and, with zero errors, write it all-or-nothing.

    Updates by code: unchanged rows are not written; a changed parent moves the subtree;
    状态=撤销 deactivates. Organisations and members missing from the file are never
    deleted or deactivated — the workbook may be a partial update. Always records one
    `OrgImport` and one IMPORT audit event, also when the file is refused.
    """
    file_name = _clean_file_name(file_name)
    actor = _authenticated(actor)
    record = functools.partial(
        _record,
        file_name=file_name,
        sha256=hashlib.sha256(data).hexdigest(),
        actor=actor,
        dry_run=dry_run,
        request=request,
    )
    refusals = package_errors(data=data, file_name=file_name)
    if refusals:
        return record(errors=refusals, summary={SUM_ERRORS: 1})
    errors, validator, counts = _check_workbook(data)
    if errors or validator is None:
        return record(errors=errors.sorted(), summary={**counts, SUM_ERRORS: len(errors.items)})
    plan = validator.plan()
    summary = {**counts, **plan.summary()}
    if dry_run:
        return record(errors=[], summary=summary)
    try:
        with transaction.atomic():
            _apply(plan, actor=actor, request=request)
            # Logged inside the transaction: the data and its log row commit together.
            return record(errors=[], summary=summary)
    except (IntegrityError, ValidationError) as exc:
        # Only a concurrent edit between validation and writing can get here.
        logger.warning("organisation import: write failed after validation", exc_info=True)
        detail = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return record(
            errors=file_error(ERR_WRITE_CONFLICT.format(detail=detail)), summary={**counts, SUM_ERRORS: 1}
        )


def org_tree_import_upload(
    *, upload: File, actor: User | None, dry_run: bool, request: HttpRequest | None = None
) -> OrgImport:
    """Read an uploaded file — refusing it unread when it is over the size cap — and import it."""
    file_name = _clean_file_name(upload.name or "")
    limit = settings.IMPORT_MAX_BYTES

    def refuse() -> OrgImport:
        return _record(
            file_name=file_name,
            sha256="",
            actor=actor,
            dry_run=dry_run,
            request=request,
            errors=file_error(ERR_TOO_LARGE.format(limit=human_size(limit))),
            summary={SUM_ERRORS: 1},
        )

    if upload.size is not None and upload.size > limit:
        return refuse()
    # The declared size can lie (a streamed upload); stop reading as soon as the cap is passed.
    buffer = bytearray()
    for chunk in upload.chunks():
        buffer += chunk
        if len(buffer) > limit:
            return refuse()
    return org_tree_import_file(
        data=bytes(buffer), file_name=file_name, actor=actor, dry_run=dry_run, request=request
    )


def error_line(error: RowError | dict[str, Any]) -> str:
    """One error as a line of text: 工作表 组织 第 12 行 [组织类型]：……"""
    text = f"工作表 {error['sheet']}"
    if error.get("row"):
        text += f" 第 {error['row']} 行"
    if error.get("column"):
        text += f" [{error['column']}]"
    return f"{text}：{error['message']}"


def _authenticated(actor: User | None) -> User | None:
    # Logs and grants name a real account or nobody (the command line), never AnonymousUser.
    return actor if actor is not None and actor.is_authenticated else None


def _clean_file_name(name: str) -> str:
    # Browsers on Windows may send a full path; only the name is worth keeping.
    return os.path.basename(name.replace("\\", "/"))[:255] or "未命名.xlsx"


def _record(
    *,
    file_name: str,
    sha256: str,
    actor: User | None,
    dry_run: bool,
    request: HttpRequest | None,
    errors: list[RowError],
    summary: dict[str, int],
) -> OrgImport:
    status = ImportStatus.FAILED if errors else ImportStatus.CHECKED if dry_run else ImportStatus.APPLIED
    uploader = _authenticated(actor)
    run = OrgImport.objects.create(
        uploaded_by=uploader,
        file_name=file_name,
        sha256=sha256,
        dry_run=dry_run,
        status=status,
        errors=list(errors),
        summary=summary,
    )
    audit_record(
        action=AuditAction.IMPORT,
        actor=uploader,
        request=request,
        target=run,
        detail={
            "kind": "org_tree",
            "file_name": file_name,
            "sha256": sha256,
            "dry_run": dry_run,
            "status": status,
            "errors": len(errors),
            "summary": summary,
        },
    )
    return run
