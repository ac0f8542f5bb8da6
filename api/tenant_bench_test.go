package api_test

// BenchmarkTenant: what one project's requests cost as the project itself
// grows (100, 1,000, 10,000 users), and whether inviting stays linear: the
// project's users are invited through inviteUsers in batches of 100 and
// every batch is timed. bench/README.md records the numbers.

import (
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"atrium/atriumtest"
)

// tenantUsers are the project sizes BenchmarkTenant compares, e.g.
// go test -run='^$' -bench=Tenant ./api/ -args -tenant.users=100,1000,10000
var tenantUsers = flag.String("tenant.users", "100,1000", "comma-separated project sizes of BenchmarkTenant")

// tenantRounds is how often each operation is measured at each size.
var tenantRounds = flag.Int("tenant.rounds", 3, "rounds of BenchmarkTenant")

func BenchmarkTenant(b *testing.B) {
	var sizes []int
	for _, f := range strings.Split(*tenantUsers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 || n > 20000 {
			b.Fatalf("-tenant.users: %q is not a size between 2 and 20000", f)
		}
		sizes = append(sizes, n)
	}
	ops := map[int][]neighbourOp{}
	for _, n := range sizes {
		var batches []time.Duration
		start := time.Now()
		e := neighbourProject(b, atriumtest.NewServer(b), n, func(d time.Duration) { batches = append(batches, d) })
		// Printed at once: a benchmark's own log comes only at its end.
		fmt.Printf("%d users invited in %s: %s\n", n, time.Since(start).Round(time.Millisecond), batchSummary(batches))
		ops[n] = neighbourOps(b, e)
	}
	for round := range *tenantRounds {
		order := slices.Clone(sizes)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for i := range ops[sizes[0]] {
			for _, n := range order {
				b.Run(ops[n][i].name+"/users="+strconv.Itoa(n), ops[n][i].run)
			}
		}
	}
}

// batchSummary describes the times of the invitation batches: the first and
// the last, the mean of the first and last ten, and their ratios.
func batchSummary(d []time.Duration) string {
	if len(d) == 0 {
		return "no batches"
	}
	k := min(10, len(d))
	mean := func(s []time.Duration) time.Duration {
		var sum time.Duration
		for _, x := range s {
			sum += x
		}
		return sum / time.Duration(len(s))
	}
	head, tail := mean(d[:k]), mean(d[len(d)-k:])
	ms := func(x time.Duration) string { return strconv.FormatFloat(float64(x)/1e6, 'f', 1, 64) + " ms" }
	return "batches " + strconv.Itoa(len(d)) + ", first " + ms(d[0]) + ", last " + ms(d[len(d)-1]) +
		", last/first " + strconv.FormatFloat(float64(d[len(d)-1])/float64(d[0]), 'f', 2, 64) +
		"; mean of first " + strconv.Itoa(k) + " " + ms(head) + ", of last " + strconv.Itoa(k) + " " + ms(tail) +
		", ratio " + strconv.FormatFloat(float64(tail)/float64(head), 'f', 2, 64)
}
