from . import selectors


def roles(request):
    """The signed-in user's roles, for the header and for showing only usable links."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    assignments = selectors.user_roles(user)
    return {
        "my_roles": assignments,
        "is_admin": selectors.is_admin(user),
    }
