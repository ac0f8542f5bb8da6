package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"atrium/atriumtest"
	"atrium/iam"
	"atrium/store"
)

func TestMain(m *testing.M) { atriumtest.Main(m) }

// newDB returns a store on a fresh database of the shared engine.
func newDB(t *testing.T) *store.DB {
	t.Helper()
	return atriumtest.NewServer(t).DB
}

// insertRole stores a role named name in tenant t.
func insertRole(t *testing.T, tn *store.Tenant, name string) *iam.Role {
	t.Helper()
	r := &iam.Role{ID: uuid.NewString(), Name: name}
	if err := tn.Roles().Insert(context.Background(), r); err != nil {
		t.Fatalf("insert %q: %v", name, err)
	}
	return r
}

func TestInsertStampsMetaAndTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	a, b := db.Tenant("project-a"), db.Tenant("project-b")

	// A document claiming another project is stored in the tenant's.
	r := &iam.Role{ID: uuid.NewString(), ProjectID: "project-b", Name: "Sneaky"}
	if err := a.Roles().Insert(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := a.Roles().Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ProjectID != "project-a" || got.Version != 1 || got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("stored role: %+v", got)
	}
	if _, err := b.Roles().Get(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other tenant Get = %v, want ErrNotFound", err)
	}
}

func TestUpdateCompareAndSwap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tn := newDB(t).Tenant("p")
	r := insertRole(t, tn, "Nurse")

	v2, err := tn.Roles().Update(ctx, r.ID, 1, func(r *iam.Role) error { r.Description = "first"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.Description != "first" || !v2.CreatedAt.Equal(r.CreatedAt) || v2.UpdatedAt.Before(r.UpdatedAt) {
		t.Fatalf("after update: %+v", v2)
	}

	// Stale expected version: ErrStale, mutate not applied.
	called := false
	_, err = tn.Roles().Update(ctx, r.ID, 1, func(r *iam.Role) error { called = true; r.Description = "stale"; return nil })
	if !errors.Is(err, store.ErrStale) {
		t.Fatalf("stale Update = %v, want ErrStale", err)
	}
	if called {
		t.Error("mutate ran on a stale version")
	}
	// An error from mutate is returned as is, and nothing is written.
	boom := errors.New("boom")
	if _, err := tn.Roles().Update(ctx, r.ID, 0, func(r *iam.Role) error { r.Description = "half"; return boom }); err != boom {
		t.Fatalf("Update with failing mutate = %v, want boom", err)
	}
	got, err := tn.Roles().Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Description != "first" || got.Version != 2 {
		t.Fatalf("rejected updates changed the role: %+v", got)
	}

	// Unknown id.
	if _, err := tn.Roles().Update(ctx, "nope", 0, func(*iam.Role) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Update of unknown id = %v, want ErrNotFound", err)
	}
}

// Concurrent updates without an expected version re-read and re-apply, so
// every one of them lands.
func TestUpdateConcurrentNoLostUpdate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tn := newDB(t).Tenant("p")
	r := insertRole(t, tn, "Counter")

	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = tn.Roles().Update(ctx, r.ID, 0, func(r *iam.Role) error {
				r.Description += fmt.Sprintf("[%d]", i)
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("update %d: %v", i, err)
		}
	}
	got, err := tn.Roles().Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if !strings.Contains(got.Description, fmt.Sprintf("[%d]", i)) {
			t.Errorf("update %d was lost: description %q", i, got.Description)
		}
	}
	if got.Version != n+1 || len(got.Description) != len("[0]")*n {
		t.Errorf("version %d, description %q; want version %d and each update applied once", got.Version, got.Description, n+1)
	}
}

// Concurrent updates expecting the same version: exactly one wins.
func TestUpdateConcurrentExpectedVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tn := newDB(t).Tenant("p")
	r := insertRole(t, tn, "Contended")

	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = tn.Roles().Update(ctx, r.ID, 1, func(r *iam.Role) error {
				r.Description = fmt.Sprint("winner ", i)
				return nil
			})
		})
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Errorf("updates %d and %d both won", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, store.ErrStale):
			t.Errorf("update %d: %v, want nil or ErrStale", i, err)
		}
	}
	got, err := tn.Roles().Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if won < 0 || got.Version != 2 || got.Description != fmt.Sprint("winner ", won) {
		t.Errorf("winner %d, stored %+v", won, got)
	}
}

func TestTenantScoping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	a, b := db.Tenant("project-a"), db.Tenant("project-b")
	r := insertRole(t, a, "Admin")

	if _, err := b.Roles().Get(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("B Get = %v, want ErrNotFound", err)
	}
	if _, err := b.Roles().Update(ctx, r.ID, 0, func(r *iam.Role) error { r.Name = "Hijacked"; return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("B Update = %v, want ErrNotFound", err)
	}
	if err := b.Roles().Delete(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("B Delete = %v, want ErrNotFound", err)
	}
	if list, err := b.ListRoles(ctx); err != nil || len(list) != 0 {
		t.Errorf("B ListRoles = %v, %v; want none", list, err)
	}
	if list, err := b.RolesByID(ctx, []string{r.ID}); err != nil || len(list) != 0 {
		t.Errorf("B RolesByID = %v, %v; want none", list, err)
	}
	if n, err := b.RoleMemberCount(ctx, r.ID); err != nil || n != 0 {
		t.Errorf("B RoleMemberCount = %d, %v", n, err)
	}

	got, err := a.Roles().Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Admin" || got.Version != 1 {
		t.Errorf("A's role changed through B: %+v", got)
	}
	if err := a.Roles().Delete(ctx, r.ID); err != nil {
		t.Errorf("A Delete: %v", err)
	}
	if err := a.Roles().Delete(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
}

func TestRoleNamesUniquePerTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	a, b := db.Tenant("project-a"), db.Tenant("project-b")
	insertRole(t, a, "Staff")
	insertRole(t, b, "Staff") // same name, other tenant: fine

	err := a.Roles().Insert(ctx, &iam.Role{ID: uuid.NewString(), Name: "Staff"})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("duplicate Insert = %v, want ErrDuplicate", err)
	}
	// An id is unique too.
	other := insertRole(t, a, "Other")
	if err := a.Roles().Insert(ctx, &iam.Role{ID: other.ID, Name: "Fresh"}); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("Insert of an existing id = %v, want ErrDuplicate", err)
	}
}

// Renaming onto an existing name violates the unique index: ErrDuplicate,
// and nothing changes.
func TestUpdateOntoDuplicateName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a := newDB(t).Tenant("project-a")
	insertRole(t, a, "Staff")
	other := insertRole(t, a, "Other")
	if _, err := a.Roles().Update(ctx, other.ID, 0, func(r *iam.Role) error { r.Name = "Staff"; return nil }); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("rename onto an existing name = %v, want ErrDuplicate", err)
	}
	if got, err := a.Roles().Get(ctx, other.ID); err != nil || got.Name != "Other" || got.Version != 1 {
		t.Fatalf("after refused rename: %+v, %v", got, err)
	}
}

func TestListRolesOrderedByName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	a := db.Tenant("project-a")
	for _, n := range []string{"Zeta", "Alpha", "Mid"} {
		insertRole(t, a, n)
	}
	insertRole(t, db.Tenant("project-b"), "Beta")
	list, err := a.ListRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range list {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"Alpha", "Mid", "Zeta"}) {
		t.Fatalf("ListRoles = %q", names)
	}
}

func TestProjectsAreTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	p := &iam.Project{ID: uuid.NewString(), Name: "Clinic", FHIRVersion: iam.R5}
	if err := db.Tenant(p.ID).Projects().Insert(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := db.Tenant(p.ID).Project(ctx)
	if err != nil || got.Name != "Clinic" || got.FHIRVersion != iam.R5 {
		t.Fatalf("Project = %+v, %v", got, err)
	}
	if _, err := db.Tenant("someone-else").Projects().Get(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("project read through another tenant = %v, want ErrNotFound", err)
	}
	all, err := db.AllProjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "Sandbox" || all[1].ID != p.ID {
		t.Fatalf("AllProjects = %+v; want the sandbox then the new project", all)
	}
}
