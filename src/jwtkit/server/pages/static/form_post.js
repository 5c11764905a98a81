// The form_post response (OAuth 2.0 Form Post Response Mode): send the form at once. The
// page's Content-Security-Policy allows this same-origin file and no inline script; without
// JavaScript, the page's <noscript> button sends the same form.
"use strict";
document.getElementById("response").submit();
