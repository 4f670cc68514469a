package retention_test

import (
	"context"
	"testing"
	"time"

	"printdock/server/store/retention"
)

// BenchmarkRetentionSize measures the SQLite database after 100,000 jobs — 1,000 a day for 100 days,
// 2 KiB of content each, each cancelled an hour after submission and audited once — without retention
// and with the default policy applied once a day. db-MB is the file and its WAL; used-MB leaves out the
// free pages that new rows reuse. Run it with
//
//	go test -run '^$' -bench RetentionSize -benchtime 1x ./server/store/retention/
func BenchmarkRetentionSize(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "retention=off"
		if on {
			name = "retention=on"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for range b.N {
				st := openSQLite(b)
				var pass func(time.Time)
				if on {
					pass = func(at time.Time) {
						if _, err := retention.Once(ctx, st, retention.Policy{}, at); err != nil {
							b.Fatal(err)
						}
					}
				}
				seed(b, st, 100, 1000, 2048, now, pass)
				file, free, err := st.Size(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(file)/1e6, "db-MB")
				b.ReportMetric(float64(file-free)/1e6, "used-MB")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}
