"""The branch secretary's view of the branch."""


from api.deps import Db, Paging, Staff
from api.problems import problem_responses
from api.routing import api_router
from workflows.paging import Page
from workflows.queries import MemberLoad, branch_members

router = api_router(prefix="/branch", tags=["branch"])


@router.get("/members", responses=problem_responses(401, 403, 422))
def members(user: Staff, db: Db, page: Paging) -> Page[MemberLoad]:
    """Members of the branch with their open orders now, lightest load first."""
    return branch_members(db, user, page)
