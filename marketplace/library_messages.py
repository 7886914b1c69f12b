"""Messages that Django, DRF and other libraries show people, translated here for Vietnamese.

Their own catalogues leave these untranslated in Vietnamese (Django 5.2's new wording of the
password-length rule, most of DRF's field errors), so a `vi` page or API answer would show
English. Listing the msgids here puts them in this project's catalogue (locale/), which Django
reads before the libraries' own. tests/marketplace/test_library_messages.py finds every such
message from the libraries themselves and fails when one reaches a `vi` reader in English.

Nothing calls this module; makemessages reads it.
"""
from django.utils.translation import gettext_noop, ngettext_lazy

PASSWORD_TOO_SHORT = ngettext_lazy(
    "This password is too short. It must contain at least %d character.",
    "This password is too short. It must contain at least %d characters.",
    "count",
)

PASSWORD_LENGTH_RULE = ngettext_lazy(
    "Your password must contain at least %(min_length)d character.",
    "Your password must contain at least %(min_length)d characters.",
    "min_length",
)

MESSAGES = (
    # The admin's menu: django-axes and DRF's tokens name their models only in English.
    gettext_noop("Auth Token"),
    gettext_noop("Token"),
    gettext_noop("Tokens"),
    gettext_noop("Axes"),
    gettext_noop("access attempt"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
    gettext_noop('Enter a valid duration.'),
    gettext_noop('The number of days must be between {min_days} and {max_days}.'),
    gettext_noop('Enter a valid JSON.'),
    gettext_noop('Enter a complete value.'),
    gettext_noop('Enter a valid UUID.'),
    gettext_noop('This field may not be null.'),
    gettext_noop('A valid biginteger is required.'),
    gettext_noop('Ensure this value is less than or equal to {max_value}.'),
    gettext_noop('Ensure this value is greater than or equal to {min_value}.'),
    gettext_noop('String value too large.'),
    gettext_noop('Must be a valid boolean.'),
    gettext_noop('Not a valid string.'),
    gettext_noop('Ensure this field has no more than {max_length} characters.'),
    gettext_noop('Ensure this field has at least {min_length} characters.'),
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop('Expected a date but got a datetime.'),
    gettext_noop('Datetime has wrong format. Use one of these formats instead: {format}.'),
    gettext_noop('Expected a datetime but got a date.'),
    gettext_noop('Invalid datetime for the timezone "{timezone}".'),
    gettext_noop('Datetime value out of range.'),
    gettext_noop('A valid number is required.'),
    gettext_noop('Ensure that there are no more than {max_digits} digits in total.'),
    gettext_noop('Ensure that there are no more than {max_decimal_places} decimal places.'),
    gettext_noop('Ensure that there are no more than {max_whole_digits} digits before the decimal point.'),
    gettext_noop('Expected a dictionary of items but got type "{input_type}".'),
    gettext_noop('This dictionary may not be empty.'),
    gettext_noop('Duration has wrong format. Use one of these formats instead: {format}.'),
    gettext_noop('The submitted data was not a file. Check the encoding type on the form.'),
    gettext_noop('No filename could be determined.'),
    gettext_noop('Ensure this filename has at most {max_length} characters (it has {length}).'),
    gettext_noop('"{input}" is not a valid path choice.'),
    gettext_noop('Integer value too large to convert to float'),
    gettext_noop('A valid integer is required.'),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop('Ensure this field has at least {min_length} elements.'),
    gettext_noop('Ensure this field has no more than {max_length} elements.'),
    gettext_noop('This selection may not be empty.'),
    gettext_noop('This value does not match the required pattern.'),
    gettext_noop('Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'),
    gettext_noop('Enter a valid "slug" consisting of Unicode letters, numbers, underscores, or hyphens.'),
    gettext_noop('Time has wrong format. Use one of these formats instead: {format}.'),
    gettext_noop('Must be a valid UUID.'),
    gettext_noop('Invalid hyperlink - No URL match.'),
    gettext_noop('Invalid hyperlink - Incorrect URL match.'),
    gettext_noop('Invalid hyperlink - Object does not exist.'),
    gettext_noop('Incorrect type. Expected URL string, received {data_type}.'),
    gettext_noop('Invalid pk "{pk_value}" - object does not exist.'),
    gettext_noop('Incorrect type. Expected pk value, received {data_type}.'),
    gettext_noop('Object with {slug_name}={value} does not exist.'),
    gettext_noop('Invalid value.'),
    gettext_noop('Invalid data. Expected a dictionary, but got {datatype}.'),
    gettext_noop('A server error occurred.'),
    gettext_noop('Incorrect authentication credentials.'),
    gettext_noop('Could not satisfy the request Accept header.'),
    gettext_noop('Authentication credentials were not provided.'),
    gettext_noop('Malformed request.'),
    gettext_noop('Request was throttled.'),
    gettext_noop('Unsupported media type "{media_type}" in request.'),
    gettext_noop('Invalid input.'),
    gettext_noop('Invalid page.'),
)
