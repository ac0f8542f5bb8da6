package provider

// The SMS login of the hosted login page, for an application with
// passwordlessSMS: the page's phone form (sms=send) has the service text
// a code (StartSMSLogIn, the same answer for a number nobody has) and
// shows the code step, whose form (sms=verify) carries the sealed state
// StartSMSLogIn made and posts the code back (LogInSMS). A right code
// begins the browser session and goes on to the application, or to the
// TOTP step (totp.go) when the application has mfaEnabled; a wrong,
// expired or used code, or too many, shows the step again with the error.
// Both forms post to the login page, behind its CSRF protection.

import (
	"net/http"

	"atrium/iam"
	"atrium/service"
)

// smsView is the SMS login of the page: the phone form (State "") or the
// code step.
type smsView struct {
	// Phone is the number typed, or the one the code went to.
	Phone string
	// State is the code step's sealed state.
	State string
}

// SMSCode reports whether the page is the code step of an SMS login.
func (v *loginView) SMSCode() bool { return v.SMS != nil && v.SMS.State != "" }

// smsLogIn serves the SMS login's two forms.
func (h *handler) smsLogIn(w http.ResponseWriter, r *http.Request, pid, step string) {
	id, phone := r.PostFormValue("authRequest"), r.PostFormValue("phone")
	switch step {
	case "send":
		sent, err := h.svc.StartSMSLogIn(r.Context(), pid, id, phone)
		if err == nil {
			h.smsCodeStep(w, r, pid, sent.Request, sent.Client, http.StatusOK, &smsView{Phone: sent.Phone, State: sent.State}, "")
			return
		}
		req, c, e := h.refused(w, r, pid, id, err, false)
		if e == nil {
			return
		}
		v := h.view(r.Context(), pid, req, c)
		v.Error = sentence(e.Message)
		if v.SMS != nil {
			v.SMS.Phone = phone
		}
		h.render(w, r, e.Code.HTTPStatus(), v, req.RedirectURI)
	case "verify":
		state := r.PostFormValue("smsState")
		done, err := h.svc.LogInSMS(r.Context(), pid, id, state, r.PostFormValue("code"))
		switch {
		case err == nil && done.Step != nil:
			h.totpStep(w, r, pid, done, "")
		case err == nil:
			h.setSession(w, pid, done.Cookie)
			h.toCallback(w, r, done.Request)
		default:
			req, c, e := h.refused(w, r, pid, id, err, true) // an expired state: start again from the application
			if e == nil {
				return
			}
			h.smsCodeStep(w, r, pid, req, c, e.Code.HTTPStatus(), &smsView{Phone: phone, State: state}, sentence(e.Message))
		}
	default:
		h.failed(w, r, iam.Invalid("sms", "%q is not one of send, verify", step), "")
	}
}

// smsCodeStep shows the step that asks for the code texted to a number.
func (h *handler) smsCodeStep(w http.ResponseWriter, r *http.Request, pid string, req *iam.AuthRequest, c *service.OpenIDClient, status int, sms *smsView, errMsg string) {
	v := h.view(r.Context(), pid, req, c)
	v.Title, v.Error, v.SMS = "Enter the code we texted you", errMsg, sms
	h.render(w, r, status, v, req.RedirectURI)
}
