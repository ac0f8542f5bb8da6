package provider

// The TOTP step of the login page, for an application with mfaEnabled:
// after the password, a user without a second factor enrols (the QR code
// and the key of a new secret, then one code, then its recovery codes,
// shown once); a user with one gives a code or a recovery code. The form
// carries the login state the service made (sealed; it proves the
// password) and posts back to the login page.

import (
	"encoding/base64"
	"html/template"
	"net/http"

	"atrium/service"
)

// totpView is the TOTP step of the page.
type totpView struct {
	State  string
	Factor service.SecondFactor
	// QR is the data: URL of an enrolment's QR code, Secret its key.
	QR     template.URL
	Secret string
	// Codes are the recovery codes of a finished enrolment, and Continue
	// where the browser goes once they are saved.
	Codes    []string
	Continue string
}

// totpStep shows the second step of a login whose password was right.
func (h *handler) totpStep(w http.ResponseWriter, r *http.Request, pid string, done *service.Login, errMsg string) {
	st := done.Step
	v := h.view(r.Context(), pid, done.Request, done.Client)
	v.Title, v.Error = "Two-step verification", errMsg
	v.TOTP = &totpView{State: st.State, Factor: service.FactorTOTP}
	if st.Next == service.SignInEnrolTOTP {
		e, err := h.svc.BeginTOTPEnrolment(r.Context(), st.State)
		if err != nil {
			h.failed(w, r, err, done.Request.RedirectURI)
			return
		}
		v.TOTP.Factor, v.TOTP.Secret = service.FactorEnrolTOTP, e.Secret
		v.TOTP.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRCode))
	}
	h.render(w, r, http.StatusOK, v, done.Request.RedirectURI)
}

// secondFactor checks the step's code: the browser session begins and
// the login goes on to the application (after the recovery codes of a new
// enrolment), or the step is shown again with the error.
func (h *handler) secondFactor(w http.ResponseWriter, r *http.Request, pid string) {
	id, state := r.PostFormValue("authRequest"), r.PostFormValue("state")
	factor := service.SecondFactor(r.PostFormValue("factor"))
	done, err := h.svc.LogInSecondFactor(r.Context(), pid, id, state, factor, r.PostFormValue("code"))
	if err == nil {
		h.setSession(w, pid, done.Cookie)
		if len(done.Step.RecoveryCodes) == 0 {
			h.toCallback(w, r, done.Request)
			return
		}
		v := h.view(r.Context(), pid, done.Request, done.Client)
		v.Title = "Save your recovery codes"
		v.TOTP = &totpView{Codes: done.Step.RecoveryCodes, Continue: h.callbackURL(done.Request)}
		h.render(w, r, http.StatusOK, v, done.Request.RedirectURI)
		return
	}
	req, c, e := h.refused(w, r, pid, id, err, true) // an expired step: start again from the application
	if e == nil {
		return
	}
	v := h.view(r.Context(), pid, req, c)
	v.Title, v.Error = "Two-step verification", sentence(e.Message)
	if factor != service.FactorEnrolTOTP {
		factor = service.FactorTOTP
	}
	v.TOTP = &totpView{State: state, Factor: factor}
	h.render(w, r, e.Code.HTTPStatus(), v, req.RedirectURI)
}
