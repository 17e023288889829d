"""The staff menu's count of open problem reports (one query, only for those who handle them)."""

from equipment import selectors


def problem_reports(request):
    user = request.user
    if not (user.is_authenticated and user.has_perm("equipment.manage_machines")):
        return {}
    return {"open_problem_counts": selectors.problem_reports_open_counts()}
