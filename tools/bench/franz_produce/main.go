// franz_produce: the franz-go side of the produce benchmark (tools/bench/produce-bench), the same job as
// bench_produce and rdkafka_produce through franz-go's kgo client: produce --count records to the
// partitions of an existing topic in turn (record n to partition n % --partitions, kgo.ManualPartitioner),
// key "key-<n>", a value of --size bytes of JSON-like text from the same generator as bench_produce's
// (std::mt19937_64 seeded 42, written out here), so every client sends the same bytes; wait for every
// delivery; any failure is an error.
//
// Settings come as -X key=value with the Java names that have a kgo counterpart: acks (all, 1, 0),
// enable.idempotence, linger.ms, batch.size (kgo.ProducerBatchMaxBytes), buffer.memory
// (kgo.MaxBufferedBytes; records are then not bounded by count), compression.type (none, gzip, snappy,
// lz4, zstd: franz-go's own Go codecs, klauspost/compress for zstd), max.in.flight.requests.per.connection
// (kgo.MaxProduceRequestsInflightPerBroker, which kgo takes without idempotence only: with it, kgo keeps
// 5 in flight and the key is ignored here).
// Any other key is an error.
//
//	franz_produce --bootstrap host:port --topic T --count N --size BYTES --partitions P [-X key=value ...]
//	franz_produce --version
//
// Prints: produced=N topic=T size=S wall_s=W
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "franz_produce: "+format+"\n", args...)
	os.Exit(code)
}

// mt19937_64 is std::mt19937_64: the 64-bit Mersenne Twister with the C++ standard's parameters.
type mt19937_64 struct {
	mt [312]uint64
	i  int
}

func newMT(seed uint64) *mt19937_64 {
	m := &mt19937_64{i: 312}
	m.mt[0] = seed
	for i := 1; i < 312; i++ {
		m.mt[i] = 6364136223846793005*(m.mt[i-1]^(m.mt[i-1]>>62)) + uint64(i)
	}
	return m
}

func (m *mt19937_64) next() uint64 {
	const upper, lower, a = 0xFFFFFFFF80000000, 0x7FFFFFFF, 0xB5026F5AA96619E9
	if m.i >= 312 {
		for i := 0; i < 312; i++ {
			x := (m.mt[i] & upper) | (m.mt[(i+1)%312] & lower)
			y := m.mt[(i+156)%312] ^ (x >> 1)
			if x&1 != 0 {
				y ^= a
			}
			m.mt[i] = y
		}
		m.i = 0
	}
	x := m.mt[m.i]
	m.i++
	x ^= (x >> 29) & 0x5555555555555555
	x ^= (x << 17) & 0x71D67FFFEDA60000
	x ^= (x << 37) & 0xFFF7EEE000000000
	x ^= x >> 43
	return x
}

var words = []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
	"juliet", "kilo", "lima", "mike", "november", "oscar", "papa"}

const tails = 1024

// makeTails is bench_produce's pool of tails: "word123",... at least size bytes each, from mt19937_64
// seeded 42.
func makeTails(size int) [][]byte {
	rng := newMT(42)
	pool := make([][]byte, tails)
	for i := range pool {
		buf := make([]byte, 0, size+32)
		for len(buf) < size {
			r := rng.next()
			buf = append(buf, '"')
			buf = append(buf, words[r%16]...)
			buf = strconv.AppendUint(buf, (r>>8)%1000, 10)
			buf = append(buf, '"', ',')
		}
		pool[i] = buf
	}
	return pool
}

// makeValue is bench_produce's Values::make: {"id":n,"ts":1700000000000+n,"tags":[ and tail n % tails,
// cut to size.
func makeValue(buf []byte, size int, n int64, pool [][]byte) []byte {
	buf = buf[:0]
	buf = append(buf, `{"id":`...)
	buf = strconv.AppendInt(buf, n, 10)
	buf = append(buf, `,"ts":`...)
	buf = strconv.AppendInt(buf, 1700000000000+n, 10)
	buf = append(buf, `,"tags":[`...)
	if len(buf) < size {
		buf = append(buf, pool[n%tails]...)
	}
	return buf[:size]
}

func number(flag, v string) int64 {
	x, err := strconv.ParseInt(v, 10, 64)
	if err != nil || x < 0 {
		fail(2, "%s: not a non-negative number: %s", flag, v)
	}
	return x
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		v := "unknown"
		if info, ok := debug.ReadBuildInfo(); ok {
			for _, d := range info.Deps {
				if d.Path == "github.com/twmb/franz-go" {
					v = d.Version
				}
			}
		}
		fmt.Println(strings.TrimPrefix(v, "v"))
		return
	}
	var bootstrap, topic string
	count, size, partitions := int64(-1), int64(-1), int64(-1)
	conf := map[string]string{}
	args := os.Args[1:]
	for i := 0; i < len(args); i++ {
		if i+1 >= len(args) {
			fail(2, "missing value after %s", args[i])
		}
		a, v := args[i], args[i+1]
		i++
		switch a {
		case "--bootstrap":
			bootstrap = v
		case "--topic":
			topic = v
		case "--count":
			count = number(a, v)
		case "--size":
			size = number(a, v)
		case "--partitions":
			partitions = number(a, v)
		case "-X":
			k, val, ok := strings.Cut(v, "=")
			if !ok {
				fail(2, "-X wants key=value, got %s", v)
			}
			conf[k] = val
		default:
			fail(2, "unknown argument %s", a)
		}
	}
	if bootstrap == "" || topic == "" || count < 0 || size < 0 || partitions < 1 {
		fail(2, "--bootstrap, --topic, --count, --size and --partitions are required")
	}

	opts := []kgo.Opt{
		kgo.SeedBrokers(bootstrap),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.MaxBufferedRecords(1 << 30), // bounded by buffer.memory's bytes, as Java's producer is
	}
	inflight := 0
	for k, v := range conf {
		switch k {
		case "acks":
			switch v {
			case "all", "-1":
				opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
			case "1":
				opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
			case "0":
				opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
			default:
				fail(2, "acks=%s: all, 1 or 0", v)
			}
		case "enable.idempotence":
			if v == "false" {
				opts = append(opts, kgo.DisableIdempotentWrite())
			} else if v != "true" {
				fail(2, "enable.idempotence=%s: true or false", v)
			}
		case "linger.ms":
			opts = append(opts, kgo.ProducerLinger(time.Duration(number(k, v))*time.Millisecond))
		case "batch.size":
			opts = append(opts, kgo.ProducerBatchMaxBytes(int32(number(k, v))))
		case "buffer.memory":
			opts = append(opts, kgo.MaxBufferedBytes(int(number(k, v))))
		case "max.in.flight.requests.per.connection":
			inflight = int(number(k, v)) // applied below, without idempotence only
		case "compression.type":
			codecs := map[string]kgo.CompressionCodec{"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(),
				"snappy": kgo.SnappyCompression(), "lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression()}
			c, ok := codecs[v]
			if !ok {
				fail(2, "compression.type=%s: none, gzip, snappy, lz4 or zstd", v)
			}
			opts = append(opts, kgo.ProducerBatchCompression(c))
		default:
			fail(2, "-X %s: not a key franz_produce knows", k)
		}
	}

	if inflight > 0 && conf["enable.idempotence"] == "false" {
		opts = append(opts, kgo.MaxProduceRequestsInflightPerBroker(inflight))
	}

	t0 := time.Now()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		fail(2, "%v", err)
	}
	var failed atomic.Int64
	var firstErr sync.Once
	var firstError error
	var wg sync.WaitGroup
	ctx := context.Background()
	pool := makeTails(int(size))
	buf := make([]byte, 0, 2*size+64)
	for n := int64(0); n < count; n++ {
		r := &kgo.Record{
			Key:       []byte("key-" + strconv.FormatInt(n, 10)),
			Value:     append([]byte(nil), makeValue(buf, int(size), n, pool)...),
			Partition: int32(n % partitions),
		}
		wg.Add(1)
		// Produce blocks while buffer.memory's bytes are in flight (kgo.MaxBufferedBytes).
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Add(1)
				firstErr.Do(func() { firstError = err })
			}
			wg.Done()
		})
	}
	if err := cl.Flush(ctx); err != nil {
		fail(1, "flush: %v", err)
	}
	wg.Wait()
	wall := time.Since(t0).Seconds()
	cl.Close()
	if f := failed.Load(); f > 0 {
		fail(1, "%d of %d records failed: %v", f, count, firstError)
	}
	fmt.Printf("produced=%d topic=%s size=%d wall_s=%.1f\n", count, topic, size, wall)
}
