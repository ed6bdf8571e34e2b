"""Who may take each transition (DOMAIN.md §3 workflow table).

Each check is bound to the case's place: a town official of another town, or a village
cadre of the next village, may not act. The administrator manages the deployment and does
not take part in the workflow (separation of duties).
"""

from households import selectors
from households.models import Role


def _acts_as(user, case, role):
    if not getattr(user, "is_authenticated", False):
        return False
    path = case.household.village.path
    return any(r.role == role and r.area_id and path.startswith(r.area.path) for r in selectors.user_roles(user))


def village_cadre(case, user):
    return _acts_as(user, case, Role.VILLAGE_CADRE)


def town_official(case, user):
    return _acts_as(user, case, Role.TOWN_OFFICIAL)


def county_officer(case, user):
    return _acts_as(user, case, Role.COUNTY_OFFICER)


def contact_person(case, user):
    return bool(case.contact_person_id) and getattr(user, "pk", None) == case.contact_person_id


def contact_or_village_cadre(case, user):
    return contact_person(case, user) or village_cadre(case, user)


# The role that acts at each step, for the transitions available from several steps.
STEP_ACTOR = {
    "reported": village_cadre,
    "village_appraisal": village_cadre,
    "public_notice": village_cadre,
    "town_review": town_official,
    "county_review": county_officer,
    "elimination_appraisal": contact_or_village_cadre,
    "elimination_notice": village_cadre,
    "elimination_town_review": town_official,
    "elimination_county_review": county_officer,
}


def identification_step_actor(case, user):
    check = STEP_ACTOR.get(case.state)
    return bool(check and check(case, user))


elimination_step_actor = identification_step_actor


def recheck_actor(case, user):
    """Who records a re-check request and reopens the review: the cadres of the case's village,
    town or county (the household asks at any of them)."""
    return village_cadre(case, user) or town_official(case, user) or county_officer(case, user)
