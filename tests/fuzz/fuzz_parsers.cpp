// Fuzz targets for every parser of outside input: ratings text (import), pairs (predict, evaluate,
// fold-in), the field splitter, the store reader and the model reader. Each target mutates its
// checked-in corpus (tests/fuzz/corpus/, one file a defect found or a format) for a fixed time with
// a fixed seed, and feeds every input to the parser in-process. An input must end in success or in
// a distcf::Error; any other exception fails the run, and a crash or (in the sanitizer build) a
// memory error ends the process. GCC has no libFuzzer: the mutator is this file's own.
//
//   distcf_fuzz CORPUS_DIR SECONDS_PER_TARGET [SEED]
#include <mpi.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "distcf/app/model_file.hpp"
#include "distcf/data/distribute.hpp"
#include "distcf/data/generate.hpp"
#include "distcf/error.hpp"
#include "distcf/io/delimited.hpp"
#include "distcf/io/h5.hpp"
#include "distcf/io/pairs.hpp"
#include "distcf/io/store.hpp"
#include "distcf/io/text_import.hpp"
#include "distcf/model/als.hpp"

namespace fs = std::filesystem;
using namespace distcf;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

// Byte-level mutations that text parsers meet: flips, insertions of the characters that matter
// (delimiters, quotes, newlines, digits, signs), deletions, duplicated runs, splices.
std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& g) {
    static const std::string special = ",\t\n\r\":; -+.eE0123456789xX\\'";
    const int edits = 1 + static_cast<int>(g() % 4);
    for (int e = 0; e < edits; ++e) {
        const std::size_t at = s.empty() ? 0 : g() % (s.size() + 1);
        switch (g() % 6) {
            case 0:
                if (!s.empty() && at < s.size()) s[at] = static_cast<char>(g() % 256);
                break;
            case 1: s.insert(at, 1, special[g() % special.size()]); break;
            case 2:
                if (!s.empty() && at < s.size()) s.erase(at, 1 + g() % std::min<std::size_t>(8, s.size() - at));
                break;
            case 3:
                if (!s.empty() && at < s.size()) s.insert(at, s.substr(at, 1 + g() % 16));
                break;
            case 4: {
                const std::string& other = corpus[g() % corpus.size()];
                if (!other.empty()) s.insert(at, other.substr(g() % other.size(), 1 + g() % 32));
                break;
            }
            default: s.insert(at, std::string(1 + g() % 40, special[g() % special.size()])); break;
        }
    }
    if (s.size() > (1 << 16)) s.resize(1 << 16);
    return s;
}

struct Tally {
    std::int64_t inputs = 0, accepted = 0, refused = 0;
};

// Runs `one` on inputs for `seconds`; false when an input ended in anything but success or Error.
bool run_target(const char* name, double seconds, const std::function<bool(Tally&)>& one) {
    Tally t;
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
        ++t.inputs;
        try {
            if (one(t)) ++t.accepted;
        } catch (const Error&) {
            ++t.refused;  // a clean error: what malformed input must give
        } catch (const std::exception& e) {
            std::cerr << "fuzz " << name << ": input " << t.inputs << " raised " << typeid(e).name() << ": " << e.what() << "\n";
            return false;
        }
    }
    std::printf("fuzz %-10s %8lld inputs in %.0f s: %lld accepted, %lld refused with a clean error\n", name,
                static_cast<long long>(t.inputs), seconds, static_cast<long long>(t.accepted), static_cast<long long>(t.refused));
    return true;
}

// Structure-aware edits of an HDF5 file: what a truncated, hand-edited or foreign file can hold.
void edit_h5(const std::string& path, std::mt19937_64& g) {
    h5::File f = h5::File::open(path, Comm::self(), true);
    static const char* datasets[] = {"/ratings/user", "/ratings/item", "/ratings/value", "/ids/users", "/ids/items",
                                     "/model/user_factors", "/model/item_factors", "/model/user_bias", "/model/item_counts",
                                     "/seen/ptr", "/seen/items", "/split/is_test"};
    static const char* attrs[] = {"n_users", "n_items", "nnz", "rating_min", "rating_max", "format_version"};
    static const char* model_attrs[] = {"n_factors", "n_users", "n_items", "k_selected", "mu", "rating_min", "rating_max",
                                        "factor_scale", "param_factors", "param_lambda", "param_formulation"};
    const double values[] = {0.0, -1.0, 1e308, -1e308, std::nan(""), 4294967304.0, 2147483647.0, 3.0, 1e-300};
    for (int e = 0, edits = 1 + static_cast<int>(g() % 3); e < edits; ++e) {
        const double v = values[g() % (sizeof values / sizeof *values)];
        switch (g() % 5) {
            case 0: {  // a dataset replaced by another length or type
                const char* name = datasets[g() % (sizeof datasets / sizeof *datasets)];
                if (!f.exists(name)) break;
                H5Ldelete(f.id(), name, H5P_DEFAULT);
                const std::size_t n = g() % 12;
                if (g() % 2) f.write_vector(name, std::vector<double>(n, v));
                else f.write_vector(name, std::vector<std::int64_t>(n, static_cast<std::int64_t>(g() % 5) - 1));
                break;
            }
            case 1: {  // a dataset removed
                const char* name = datasets[g() % (sizeof datasets / sizeof *datasets)];
                if (f.exists(name)) H5Ldelete(f.id(), name, H5P_DEFAULT);
                break;
            }
            case 2: {  // a root attribute set to an extreme
                const char* a = attrs[g() % (sizeof attrs / sizeof *attrs)];
                if (!f.has_attr(a)) break;
                H5Adelete(f.id(), a);
                if (g() % 2) f.set_attr(a, v);
                else f.set_attr(a, static_cast<std::int64_t>(v == v ? v : -1));
                break;
            }
            case 3: {  // a model attribute set to an extreme or another type
                if (!f.exists("/model")) break;
                const auto grp = f.group("/model");
                const char* a = model_attrs[g() % (sizeof model_attrs / sizeof *model_attrs)];
                if (!grp.has_attr(a)) break;
                H5Adelete(grp.id(), a);
                switch (g() % 3) {
                    case 0: grp.set_attr(a, v); break;
                    case 1: grp.set_attr(a, static_cast<std::int64_t>(v == v ? v : -1)); break;
                    default: grp.set_attr(a, std::string("sideways")); break;
                }
                break;
            }
            default: {  // values inside a dataset changed in place
                const char* name = datasets[g() % (sizeof datasets / sizeof *datasets)];
                if (!f.exists(name)) break;
                const h5::Dataset d = f.dataset(name);
                if (d.rows() == 0 || d.rank() != 1) break;
                if (d.holds<double>()) {
                    auto x = f.read_vector<double>(name);
                    x[g() % x.size()] = v;
                    H5Ldelete(f.id(), name, H5P_DEFAULT);
                    f.write_vector(name, x);
                } else if (d.holds<std::int64_t>()) {
                    auto x = f.read_vector<std::int64_t>(name);
                    x[g() % x.size()] = static_cast<std::int64_t>(v == v ? v : -7);
                    H5Ldelete(f.id(), name, H5P_DEFAULT);
                    f.write_vector(name, x);
                }
                break;
            }
        }
    }
    f.close();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: distcf_fuzz CORPUS_DIR SECONDS_PER_TARGET [SEED]\n";
        return 2;
    }
    MPI_Init(&argc, &argv);
    const fs::path corpus_dir = argv[1];
    const double seconds = std::stod(argv[2]);
    std::mt19937_64 g(argc > 3 ? std::stoull(argv[3]) : 20261201);
    const fs::path work = fs::temp_directory_path() / ("distcf-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(work);
    const auto load = [&](const char* sub) {
        std::vector<std::string> v;
        for (const auto& e : fs::directory_iterator(corpus_dir / sub)) v.push_back(read_file(e.path()));
        std::sort(v.begin(), v.end());  // a fixed order whatever the directory's
        return v;
    };
    const std::vector<std::string> text = load("text"), pairs = load("pairs");
    std::printf("fuzz corpus: %zu ratings files, %zu pairs files\n", text.size(), pairs.size());
    bool ok = true;
    const std::string input = (work / "input.txt").string();

    ok &= run_target("ratings", seconds, [&](Tally&) {
        write_file(input, mutate(text[g() % text.size()], text, g));
        ImportOptions o;
        o.format = static_cast<TextFormat>(g() % 3);
        if (g() % 3 == 0) o.delimiter = g() % 2 ? "\t" : ",";
        o.header = g() % 4 == 0;
        o.duplicates = static_cast<DuplicatePolicy>(g() % 3);
        const ImportedRatings r = import_text(input, o);
        if (r.users.size() <= 0 || r.items.size() <= 0) throw std::logic_error("accepted ratings without IDs");
        return true;
    });
    ok &= run_target("pairs", seconds, [&](Tally&) {
        write_file(input, mutate(pairs[g() % pairs.size()], pairs, g));
        const auto p = read_pairs(input, g() % 2 == 0);
        for (const auto& x : p)
            if (x.user.empty() || x.item.empty()) throw std::logic_error("accepted a pair with an empty ID");
        return true;
    });
    ok &= run_target("splitter", seconds, [&](Tally&) {
        static const std::string delims[] = {"", ",", "\t", "::", ";"};
        FieldSplitter s(delims[g() % 5]);
        std::vector<std::string_view> f;
        std::string err;
        return s.split(mutate(text[g() % text.size()], text, g), f, err);
    });

    // A small store and model to edit: generated, trained, written like any.
    const std::string store = (work / "store.h5").string(), model = (work / "model.h5").string();
    {
        GenerateParams gp;
        gp.users = 30;
        gp.items = 20;
        gp.density = 0.3;
        const GenreModel gm = make_genre_model(gp, Comm::self());
        const GeneratedBlock gb = generate_block(gp, gm, Comm::self());
        StoreHeader h;
        h.n_users = gp.users;
        h.n_items = gp.items;
        h.rating_min = 1;
        h.rating_max = 5;
        write_store(store, Comm::self(), h, gb.ratings, IdMap::identity(gp.users), IdMap::identity(gp.items));
        const RatingBlocks b = distribute(gb.ratings, gp.users, gp.items, 1, 5, Comm::self());
        AlsParams ap;
        ap.factors = 3;
        ap.iters = 2;
        FactorModel m = init_als(b, ap);
        run_als(m, b, Csr{}, ap, Comm::self());
        save_model(model, m, IdMap::identity(gp.users), IdMap::identity(gp.items), Provenance::now("fuzz"), Comm::self(),
                   {}, &b.by_user);
    }
    const std::string edited = (work / "edited.h5").string();
    ok &= run_target("store", seconds, [&](Tally&) {
        fs::copy_file(store, edited, fs::copy_options::overwrite_existing);
        edit_h5(edited, g);
        const RatingBlocks b = load_blocks(edited, Comm::self());
        read_id_maps(edited, Comm::self());
        return b.nnz >= 0;
    });
    ok &= run_target("model", seconds, [&](Tally&) {
        fs::copy_file(model, edited, fs::copy_options::overwrite_existing);
        edit_h5(edited, g);
        IdMap users, items;
        const FactorModel m = load_model(edited, Comm::self(), &users, &items);
        const h5::File f = h5::File::open(edited, Comm::self());
        read_seen(f, 0, m.n_users, m.n_items);
        for (std::int64_t u = 0; u < m.n_users; ++u)  // a model that loads predicts everywhere
            for (std::int64_t i = 0; i < m.n_items; ++i)
                if (!std::isfinite(m.predict(u, i))) throw std::logic_error("a loaded model predicts a non-finite value");
        return true;
    });
    fs::remove_all(work);
    MPI_Finalize();
    std::printf("%s\n", ok ? "fuzz: every input ended in a result or a clean error" : "fuzz: FAILED");
    return ok ? 0 : 1;
}
